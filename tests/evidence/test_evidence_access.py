"""Who sees which files: the list, the originals and the previews follow the channels one may read."""
from __future__ import annotations

import pytest

from tests.evidence.files import evidence_url, jpeg, pdf, upload


def listed(client, info, headers, **query) -> list[str]:
    response = client.get(f"/api/v1/cases/{info.id}/evidence", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [item["filename"] for item in response.get_json()["items"]]


@pytest.fixture
def caucus_files(client, make_mediation_case):
    """A case in mediation with one file in the joint channel and one in each party's caucus."""
    info, mediator = make_mediation_case()
    ids = {}
    for role, channel, name in (("buyer", "joint", "joint.jpg"), ("buyer", "caucus:buyer", "buyer-only.jpg"),
                                ("seller", "caucus:seller", "seller-only.jpg")):
        response = upload(client, info, role, jpeg(color=(len(name), 0, 0)), name, channel=channel)
        ids[name] = response.get_json()["evidence"]["id"]
    return info, mediator, ids


def test_a_party_lists_the_joint_files_and_its_own_caucus_newest_first(client, caucus_files):
    info, _mediator, _ids = caucus_files
    assert listed(client, info, info.headers("buyer")) == ["buyer-only.jpg", "joint.jpg"]


def test_the_case_mediator_lists_every_channel(client, caucus_files, staff_login):
    info, mediator, _ids = caucus_files
    assert listed(client, info, staff_login(mediator)) == ["seller-only.jpg", "buyer-only.jpg", "joint.jpg"]


def test_the_list_can_be_narrowed_to_one_channel(client, caucus_files):
    info, _mediator, _ids = caucus_files
    assert listed(client, info, info.headers("seller"), channel="caucus:seller") == ["seller-only.jpg"]


def test_asking_for_the_other_partys_caucus_list_is_refused(client, caucus_files):
    info, _mediator, _ids = caucus_files
    response = client.get(f"/api/v1/cases/{info.id}/evidence?channel=caucus:buyer", headers=info.headers("seller"))
    assert response.status_code == 403


def test_the_list_pages_back_with_before(client, make_case):
    info = make_case()
    ids = [upload(client, info, "buyer", pdf(), f"{n}.pdf").get_json()["evidence"]["id"] for n in range(3)]
    page = client.get(f"/api/v1/cases/{info.id}/evidence?limit=2", headers=info.headers("buyer")).get_json()
    older = client.get(f"/api/v1/cases/{info.id}/evidence?limit=2&before={ids[1]}",
                       headers=info.headers("buyer")).get_json()
    assert [i["id"] for i in page["items"]] == ids[:0:-1] and page["has_older"]
    assert [i["id"] for i in older["items"]] == [ids[0]] and not older["has_older"]


@pytest.mark.parametrize("variant", ["", "preview", "thumbnail"])
def test_the_other_partys_caucus_file_is_not_found(client, caucus_files, variant):
    info, _mediator, ids = caucus_files
    response = client.get(evidence_url(info, ids["buyer-only.jpg"], variant), headers=info.headers("seller"))
    assert response.status_code == 404


def test_the_mediator_downloads_a_caucus_file(client, caucus_files, staff_login):
    info, mediator, ids = caucus_files
    assert client.get(evidence_url(info, ids["buyer-only.jpg"]), headers=staff_login(mediator)).status_code == 200


def test_another_cases_file_is_not_found_through_this_cases_url(client, make_case):
    mine, theirs = make_case(), make_case()
    their_file = upload(client, theirs, "buyer", pdf(), "theirs.pdf").get_json()["evidence"]["id"]
    response = client.get(evidence_url(mine, their_file), headers=mine.headers("buyer"))
    assert response.status_code == 404


def test_a_party_of_another_case_does_not_find_the_case(client, make_case):
    info, other = make_case(), make_case()
    file_id = upload(client, info, "buyer", pdf(), "a.pdf").get_json()["evidence"]["id"]
    assert client.get(evidence_url(info, file_id), headers=other.headers("buyer")).status_code == 404


@pytest.mark.parametrize("path", ["", "/{id}", "/{id}/preview"])
def test_an_anonymous_caller_is_asked_to_authenticate(client, make_case, path):
    info = make_case()
    file_id = upload(client, info, "buyer", jpeg(), "a.jpg").get_json()["evidence"]["id"]
    response = client.get(f"/api/v1/cases/{info.id}/evidence" + path.format(id=file_id))
    assert response.status_code == 401


def test_another_platforms_api_key_does_not_find_the_case(client, make_case, make_platform):
    info = make_case()
    file_id = upload(client, info, "buyer", pdf(), "a.pdf").get_json()["evidence"]["id"]
    assert client.get(evidence_url(info, file_id), headers=make_platform().headers).status_code == 404


@pytest.mark.parametrize("path", ["", "/{id}", "/{id}/thumbnail"])
def test_the_platform_is_no_viewer_of_evidence(client, make_case, path):
    info = make_case()
    file_id = upload(client, info, "buyer", jpeg(), "a.jpg").get_json()["evidence"]["id"]
    response = client.get(f"/api/v1/cases/{info.id}/evidence" + path.format(id=file_id), headers=info.platform.headers)
    assert response.status_code == 403


def test_an_admin_sees_joint_files_but_not_a_caucus(client, caucus_files, make_user, staff_login):
    info, _mediator, ids = caucus_files
    headers = staff_login(make_user("admin"))
    assert listed(client, info, headers) == ["joint.jpg"]
    assert client.get(evidence_url(info, ids["seller-only.jpg"]), headers=headers).status_code == 404
