"""Nothing alters or deletes what is on the record: the rows refuse it, the store never overwrites."""
from __future__ import annotations

import io
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from mediation.errors import Invalid
from mediation.extensions import db
from mediation.models import Evidence
from mediation.models.event_log import AppendOnlyError
from mediation.services import evidence
from mediation.services.storage import LocalStorage, TooLarge
from tests.evidence.files import pdf, stored_files


@pytest.fixture
def stored(make_case) -> Evidence:
    info = make_case()
    return evidence.upload_evidence(info.actor("buyer"), info.id, stream=io.BytesIO(pdf()), filename="a.pdf")


def test_the_orm_refuses_to_change_an_evidence_row(stored):
    row = db.session.get(Evidence, stored.id)
    row.caption = "edited"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_the_orm_refuses_to_delete_an_evidence_row(stored):
    db.session.delete(db.session.get(Evidence, stored.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE evidence SET caption = 'x'", "DELETE FROM evidence"])
def test_the_database_refuses_to_change_evidence_rows(stored, statement):
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.query(Evidence).count() == 1


def test_the_store_never_overwrites_a_blob(tmp_path):
    store = LocalStorage(tmp_path)
    blob = store.put(io.BytesIO(b"on the record\n"))
    before = os.stat(store._path(blob.sha256))
    assert store.put(io.BytesIO(b"on the record\n")) == blob
    after = os.stat(store._path(blob.sha256))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_the_store_leaves_no_temporary_file_when_a_blob_is_too_large(tmp_path):
    store = LocalStorage(tmp_path)
    with pytest.raises(TooLarge):
        store.put(io.BytesIO(b"x" * 1000), max_bytes=999)
    assert stored_files(tmp_path) == []


def test_the_store_leaves_nothing_when_the_inspection_refuses_the_file(tmp_path):
    store = LocalStorage(tmp_path)

    def refuse(_file):
        raise Invalid("no")

    with pytest.raises(Invalid):
        store.put(io.BytesIO(b"anything"), inspect=refuse)
    assert stored_files(tmp_path) == []


def test_the_store_serves_what_it_was_given(tmp_path):
    store = LocalStorage(tmp_path)
    blob = store.put(io.BytesIO(b"bytes"))
    with store.open(blob.sha256) as file:
        assert (file.read(), blob.size, store.exists(blob.sha256)) == (b"bytes", 5, True)


def test_the_store_refuses_names_that_are_no_hash(tmp_path):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).open("../../etc/passwd")


@pytest.mark.parametrize("name", ["", "   ", ".", ".."])
def test_an_empty_name_is_refused(name):
    with pytest.raises(Invalid):
        evidence.clean_filename(name)


def test_a_name_is_kept_as_given_when_it_is_safe():
    assert evidence.clean_filename("  收据 (copy) #2.pdf ") == "收据 (copy) #2.pdf"
