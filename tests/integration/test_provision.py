"""The local stack is built from the deployment template, and serializes requests like DynamoDB."""

from __future__ import annotations

import copy
import os
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from devstack.engine import LocalEngine
from devstack.provision import (
    ProvisionError,
    load_resources,
    plan_bucket,
    plan_table,
    provision,
)

TABLE = "onagawa-points-test"
BUCKET = "onagawa-points-test"

# The data design (pk/sk plus four overloaded GSIs). Written out here, not read from the
# template, so that a wrong template fails these tests instead of agreeing with itself.
EXPECTED_KEYS = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
EXPECTED_GSIS = {
    f"gsi{n}": [
        {"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
        {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"},
    ]
    for n in (1, 2, 3, 4)
}
# gsi4 is the sparse list of wallets the ledger check reads instead of a Scan: keys only.
EXPECTED_PROJECTIONS = {"gsi1": "ALL", "gsi2": "ALL", "gsi3": "ALL", "gsi4": "KEYS_ONLY"}


@pytest.fixture
def provisioned(clean_engine: LocalEngine) -> LocalEngine:
    provision(clean_engine.endpoint, TABLE, BUCKET, clean_engine.region)
    return clean_engine


# -- table --------------------------------------------------------------------------------------
def test_table_has_the_keys_and_indexes_of_the_data_design(provisioned: LocalEngine) -> None:
    # GIVEN a provisioned engine WHEN the table is described
    table = provisioned.client("dynamodb").describe_table(TableName=TABLE)["Table"]

    # THEN it has the designed keys, four GSIs with their projections, and on-demand billing
    assert table["KeySchema"] == EXPECTED_KEYS
    gsis = {ix["IndexName"]: ix for ix in table["GlobalSecondaryIndexes"]}
    assert {name: ix["KeySchema"] for name, ix in gsis.items()} == EXPECTED_GSIS
    assert {name: ix["Projection"]["ProjectionType"] for name, ix in gsis.items()} == EXPECTED_PROJECTIONS
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    attribute_types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    assert set(attribute_types.values()) == {"S"}


def test_table_matches_the_template_it_was_built_from(provisioned: LocalEngine) -> None:
    template_props = load_resources()["Resources"]["MainTable"]["Properties"]
    table = provisioned.client("dynamodb").describe_table(TableName=TABLE)["Table"]

    assert table["KeySchema"] == template_props["KeySchema"]
    assert {ix["IndexName"]: ix["KeySchema"] for ix in table["GlobalSecondaryIndexes"]} == {
        ix["IndexName"]: ix["KeySchema"] for ix in template_props["GlobalSecondaryIndexes"]
    }
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        template_props["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )


def test_table_has_ttl_backups_encryption_and_deletion_protection(provisioned: LocalEngine) -> None:
    client = provisioned.client("dynamodb")

    ttl = client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}

    backups = client.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"

    table = client.describe_table(TableName=TABLE)["Table"]
    assert table["SSEDescription"]["Status"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True


# -- bucket -------------------------------------------------------------------------------------
def test_bucket_exists_blocks_public_access_and_encrypts(provisioned: LocalEngine) -> None:
    s3 = provisioned.client("s3")

    s3.head_bucket(Bucket=BUCKET)
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rules = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")


def test_bucket_expires_exports_after_seven_days(provisioned: LocalEngine) -> None:
    rules = provisioned.client("s3").get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]

    expiring = [r for r in rules if "Expiration" in r]
    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"], r["Status"]) for r in expiring] == [
        ("exports/", 7, "Enabled")
    ]


def test_bucket_is_not_versioned(provisioned: LocalEngine) -> None:
    versioning = provisioned.client("s3").get_bucket_versioning(Bucket=BUCKET)
    assert versioning.get("Status") in (None, "Suspended")


# -- idempotence and drift ----------------------------------------------------------------------
def test_provisioning_twice_keeps_the_existing_table_and_bucket(provisioned: LocalEngine) -> None:
    client = provisioned.client("dynamodb")
    client.put_item(TableName=TABLE, Item={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}})

    again = provision(provisioned.endpoint, TABLE, BUCKET, provisioned.region)

    assert (again.table.created, again.bucket.created) == (False, False)
    assert "Item" in client.get_item(TableName=TABLE, Key={"pk": {"S": "KEEP"}, "sk": {"S": "ME"}})
    assert set(again.resources_not_applied) == {
        "ExportsBucketPolicy", "AlarmTopic", "AlarmEmailSubscription", "ApiServerErrorsAlarm",
        "SettlementCloseMissedAlarm", "LedgerCheckMissedAlarm", "LedgerDifferenceAlarm",
        "AppSecrets",  # locally written by ensure_app_secret, not from the template
    }


def test_first_provisioning_reports_creation(clean_engine: LocalEngine) -> None:
    result = provision(clean_engine.endpoint, TABLE, BUCKET, clean_engine.region)
    assert (result.table.created, result.bucket.created) == (True, True)


def test_an_existing_table_of_another_shape_is_refused(clean_engine: LocalEngine) -> None:
    # GIVEN a table with the right name but an older design (no sort key, no indexes)
    clean_engine.client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    # WHEN provisioning THEN it stops instead of pretending the table is fine
    with pytest.raises(ProvisionError, match="key schema"):
        provision(clean_engine.endpoint, TABLE, BUCKET, clean_engine.region)


def test_reset_removes_everything(provisioned: LocalEngine) -> None:
    provisioned.reset()
    assert provisioned.client("dynamodb").list_tables()["TableNames"] == []
    assert provisioned.client("s3").list_buckets()["Buckets"] == []


# -- engine lifecycle ---------------------------------------------------------------------------
def test_engine_answers_one_request_per_connection(engine: LocalEngine) -> None:
    # HTTP/1.0 + "Connection: close": an idle pooled keep-alive connection would otherwise hold the
    # single-threaded server and stall every other client.
    response = engine.client("dynamodb").list_tables()
    assert response["ResponseMetadata"]["HTTPHeaders"]["connection"] == "close"


def test_engine_stops_frees_its_port_and_leaves_the_environment_alone() -> None:
    before = dict(os.environ)
    with LocalEngine() as extra:
        port = extra.port
        extra.client("s3").list_buckets()
        assert extra.endpoint == f"http://127.0.0.1:{port}"
    extra.stop()  # a second stop is harmless

    assert not extra.running
    with pytest.raises(RuntimeError, match="not running"):
        _ = extra.endpoint
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    assert dict(os.environ) == before


# -- translation rules (no engine) --------------------------------------------------------------
def test_translation_maps_cloudformation_names_to_api_names() -> None:
    template = load_resources()

    table = plan_table(template, "t")
    bucket = plan_bucket(template)

    assert table.create_table_kwargs["TableName"] == "t"
    assert table.create_table_kwargs["SSESpecification"] == {"Enabled": True}
    assert table.time_to_live == {"AttributeName": "ttl", "Enabled": True}
    assert bucket.lifecycle is not None
    assert {"ID": "expire-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"}} | {
        "Expiration": {"Days": 7}
    } in bucket.lifecycle["Rules"]


def test_an_unknown_table_property_is_refused_not_ignored() -> None:
    template = copy.deepcopy(load_resources())
    template["Resources"]["MainTable"]["Properties"]["SomeNewFeature"] = {"Enabled": True}

    with pytest.raises(ProvisionError, match="SomeNewFeature"):
        plan_table(template, "t")


def test_an_intrinsic_in_a_translated_property_is_refused() -> None:
    template = copy.deepcopy(load_resources())
    template["Resources"]["MainTable"]["Properties"]["BillingMode"] = {"Ref": "Billing"}

    with pytest.raises(ProvisionError, match="Ref"):
        plan_table(template, "t")


def test_an_unknown_template_resource_is_refused(clean_engine: LocalEngine) -> None:
    template = copy.deepcopy(load_resources())
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}

    with pytest.raises(ProvisionError, match="Queue"):
        provision(clean_engine.endpoint, TABLE, BUCKET, clean_engine.region, template=template)
    assert clean_engine.client("dynamodb").list_tables()["TableNames"] == []


# -- atomicity ----------------------------------------------------------------------------------
@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every 10 µs so that, were the server threaded, requests would interleave.

    With the default 5 ms interval even moto's threaded server rarely loses an update in this
    test; at 10 µs it loses dozens, so this test fails against a server that does not serialize.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@pytest.mark.parametrize(
    ("start", "threads", "attempts_per_thread"),
    [
        (800, 8, 100),  # exactly enough: every decrement must land
        (600, 8, 100),  # oversubscribed: 600 land, 200 are refused by the condition
    ],
)
def test_concurrent_conditional_decrements_never_lose_or_overdraw(
    clean_engine: LocalEngine,
    frequent_thread_switches: None,
    start: int,
    threads: int,
    attempts_per_thread: int,
) -> None:
    # GIVEN a counter item
    client = clean_engine.client("dynamodb")
    client.create_table(
        TableName="counter",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    key = {"pk": {"S": "COUNTER"}}
    client.put_item(TableName="counter", Item={**key, "n": {"N": str(start)}})

    successes = [0] * threads
    refusals = [0] * threads
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def decrement(worker: int) -> None:
        # No retries: a retried request that had in fact landed would be counted once but applied twice.
        own: Any = clean_engine.client("dynamodb", Config(retries={"max_attempts": 1, "mode": "standard"}))
        try:
            barrier.wait(timeout=30)
            for _ in range(attempts_per_thread):
                try:
                    own.update_item(
                        TableName="counter",
                        Key=key,
                        UpdateExpression="SET n = n - :one",
                        ConditionExpression="n > :zero",
                        ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}},
                    )
                    successes[worker] += 1
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
                    refusals[worker] += 1
        except BaseException as exc:  # surfaced below; a thread cannot fail the test by itself
            errors.append(exc)

    # WHEN the workers decrement concurrently
    workers = [threading.Thread(target=decrement, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    # THEN every successful decrement is reflected exactly once and the counter never goes below 0
    assert not errors, errors
    final = int(client.get_item(TableName="counter", Key=key, ConsistentRead=True)["Item"]["n"]["N"])
    attempts = threads * attempts_per_thread
    assert sum(successes) == min(start, attempts)
    assert sum(refusals) == attempts - sum(successes)
    assert final == start - sum(successes) == 0
