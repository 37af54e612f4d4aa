"""The local stack: moto served single-threaded, provisioned from the deployment template.

Development and test tooling only; never packaged into the Lambda deployment (only ``app.py``
and ``chalicelib/`` are).
"""

from devstack.engine import DEFAULT_REGION, DUMMY_CREDENTIALS, LocalEngine, local_client
from devstack.provision import (
    RESOURCES_PATH,
    ProvisionError,
    ProvisionResult,
    create_bucket_from_template,
    create_table_from_template,
    load_resources,
    plan_bucket,
    plan_table,
    provision,
)

__all__ = [
    "DEFAULT_REGION",
    "DUMMY_CREDENTIALS",
    "RESOURCES_PATH",
    "LocalEngine",
    "ProvisionError",
    "ProvisionResult",
    "create_bucket_from_template",
    "create_table_from_template",
    "load_resources",
    "local_client",
    "plan_bucket",
    "plan_table",
    "provision",
]
