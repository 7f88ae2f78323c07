"""Money in JSON: always {"value": "40.00", "currency": "USD"}, the value with the currency's decimals."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields

from mediation.money import Money, MoneyError


class MoneyField(fields.Field):
    def __init__(self, *, positive: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.positive = positive
        self.metadata.setdefault("description", 'An amount: {"value": "40.00", "currency": "USD"}.')

    def _serialize(self, value: Money | None, attr, obj, **kwargs):
        return None if value is None else value.as_json()

    def _deserialize(self, value, attr, data, **kwargs) -> Money:
        if not isinstance(value, dict):
            raise ValidationError(_l('Give an object such as {"value": "40.00", "currency": "USD"}.'))
        unknown = set(value) - {"value", "currency"}
        if unknown:
            raise ValidationError(_l("Unknown field(s): %(fields)s.", fields=", ".join(sorted(unknown))))
        if not isinstance(value.get("currency"), str):
            raise ValidationError(_l("The currency is missing: give an ISO 4217 code such as USD."))
        if "value" not in value:
            raise ValidationError(_l('The value is missing: give a string such as "40.00".'))
        try:
            money = Money.parse(value["value"], value["currency"])
        except MoneyError as error:
            raise ValidationError(error.args[0]) from None
        if self.positive and money.minor == 0:
            raise ValidationError(_l("The amount must be more than zero."))
        return money


MONEY_SCHEMA = {
    "type": "object",
    "required": ["value", "currency"],
    "properties": {
        "value": {"type": "string", "example": "40.00", "pattern": r"^\d+(\.\d+)?$"},
        "currency": {"type": "string", "example": "USD", "minLength": 3, "maxLength": 3},
    },
}
