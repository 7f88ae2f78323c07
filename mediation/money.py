"""Money as Decimal plus ISO 4217 code, stored as integer minor units in the currency's exponent."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.core import get_global
from babel.numbers import get_currency_precision, get_territory_currencies
from flask_babel import lazy_gettext as _l


def _legal_tender() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (no withdrawn, test or fund codes)."""
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, tender=True))
    return frozenset(codes)


CURRENCIES = _legal_tender()


class MoneyError(ValueError):
    """Why a value/currency pair is not money; the message is shown to the user."""


def exponent(currency: str) -> int:
    return get_currency_precision(currency)


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def parse(cls, value: str, currency: str) -> Money:
        """Parse a decimal string such as "40.00" in `currency`; refuse more decimals than it has."""
        if currency not in CURRENCIES:
            raise MoneyError(_l("Unknown currency %(currency)s: use an ISO 4217 code such as USD.",
                                currency=repr(currency)))
        if not isinstance(value, str):
            raise MoneyError(_l("The value must be a string such as \"40.00\"."))
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise MoneyError(_l("%(value)s is not a decimal number.", value=repr(value))) from None
        if not amount.is_finite():
            raise MoneyError(_l("%(value)s is not a decimal number.", value=repr(value)))
        if amount < 0:
            raise MoneyError(_l("The value cannot be negative."))
        places = exponent(currency)
        scaled = amount.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise MoneyError(_l("%(currency)s has %(places)s decimal place(s); %(value)s has more.",
                                currency=currency, places=places, value=repr(value)))
        if scaled > 10**15:
            raise MoneyError(_l("The value is too large."))
        return cls(int(scaled), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def format_value(self) -> str:
        """The value with exactly the currency's decimals, as the API shows it."""
        places = exponent(self.currency)
        return f"{self.decimal:.{places}f}"

    def as_json(self) -> dict[str, str]:
        return {"value": self.format_value(), "currency": self.currency}

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise MoneyError(_l("Cannot add amounts in different currencies."))
        return Money(self.minor + other.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.format_value()} {self.currency}"
