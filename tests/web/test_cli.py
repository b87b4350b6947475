"""Commands: seed-demo is idempotent and prints the credentials object."""

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ApiKey, Event, Merchant, SftpAccount, StaffUser
from app.services import accounts, api_keys
from app.services.sftp_accounts import DatabaseAuthenticator
from tests.factories import HX, csrf_token, login, make_merchant

KEYS = {
    "merchant_public_id",
    "hash_key",
    "api_key",
    "console_email",
    "console_password",
    "platform_url",
    "store_url",
    "sftp_username",
    "sftp_password",
    "sftp_port",
}


def _counts():
    return [
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Merchant, StaffUser, ApiKey, Event, SftpAccount)
    ]


def test_seed_demo_json_prints_working_credentials(app, runner):
    result = runner.invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    creds = json.loads(result.output)
    assert set(creds) >= KEYS
    merchant = db.session.scalar(select(Merchant))
    assert creds["merchant_public_id"] == merchant.public_id
    assert creds["hash_key"] == merchant.hash_key
    assert accounts.authenticate(creds["console_email"], creds["console_password"], source="test")
    assert api_keys.authenticate(creds["api_key"]).merchant_id == merchant.id
    assert "http://127.0.0.1:5001" in merchant.allowed_origins
    sftp = DatabaseAuthenticator(app)
    assert creds["sftp_username"] == merchant.public_id and creds["sftp_port"] == 2222
    assert sftp.check_password(creds["sftp_username"], creds["sftp_password"])
    assert not sftp.check_password(creds["sftp_username"], creds["console_password"])


def test_seed_demo_twice_changes_nothing(app, runner):
    first = runner.invoke(args=["seed-demo", "--json"]).output
    counts = _counts()
    second = runner.invoke(args=["seed-demo", "--json"]).output
    assert json.loads(first) == json.loads(second)
    assert _counts() == counts


def test_seed_demo_plain_output_names_the_console(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert "/console/" in result.output and "hash" not in result.output.lower()


def test_create_merchant_command(app, runner):
    result = runner.invoke(
        args=[
            "create-merchant",
            "Acme",
            "--owner-email",
            "boss@acme.test",
            "--owner-password",
            "a-long-password",
            "--timezone",
            "Europe/Berlin",
        ]
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Merchant).where(Merchant.name == "Acme")).timezone == (
        "Europe/Berlin"
    )


def test_create_merchant_refuses_a_short_password(app, runner):
    result = runner.invoke(
        args=[
            "create-merchant",
            "Acme",
            "--owner-email",
            "boss@acme.test",
            "--owner-password",
            "short",
        ]
    )
    assert result.exit_code != 0 and "at least" in result.output
    assert db.session.scalar(select(func.count()).select_from(Merchant)) == 0


@pytest.mark.parametrize(("role", "api_key_status"), [("staff", 403), ("owner", 200)])
def test_create_staff_command_makes_a_login_with_that_role(
    app, runner, client, role, api_key_status
):
    merchant = make_merchant()
    result = runner.invoke(
        args=[
            "create-staff",
            merchant.public_id,
            "--email",
            "Clerk@Acme.test",
            "--role",
            role,
            "--password",
            "a-long-password",
        ]
    )
    assert result.exit_code == 0, result.output
    clerk = accounts.get_by_email("clerk@acme.test")
    assert (clerk.merchant_id, clerk.role) == (merchant.id, role)
    assert login(client, clerk, password="a-long-password").status_code == 302
    assert client.get("/console/").status_code == 200
    response = client.post(
        "/console/settings/api-keys",
        headers=HX,
        data={"name": "Checkout", "csrf_token": csrf_token(client, "/console/")},
    )
    assert response.status_code == api_key_status


def test_create_staff_prompts_for_the_password_and_defaults_to_staff(app, runner):
    merchant = make_merchant()
    result = runner.invoke(
        args=["create-staff", merchant.public_id, "--email", "c@acme.test"],
        input="a-long-password\na-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert accounts.get_by_email("c@acme.test").role == "staff"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-merchant", "--email", "c@acme.test"], "no merchant"),
        (["{merchant}", "--email", "c@acme.test", "--role", "admin"], "Invalid value for '--role'"),
        (["{merchant}", "--email", "not-an-email"], "valid email"),
        (["{merchant}", "--email", "c@acme.test", "--password", "short"], "at least"),
    ],
)
def test_create_staff_refuses_bad_input(app, runner, args, message):
    merchant = make_merchant()
    args = [a.format(merchant=merchant.public_id) for a in args]
    if "--password" not in args:
        args += ["--password", "a-long-password"]
    result = runner.invoke(args=["create-staff", *args])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0
