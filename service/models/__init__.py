"""Every table of the service; importing this package registers them all on the metadata."""

from service import db as _db  # noqa: F401  (naming convention before any table)
from service.models.appearance import Appearance
from service.models.common import ActionKind, Origin, Precision, ReporterType
from service.models.control import (
    ClassAction,
    ClassDefinition,
    ControlAction,
    Exclusion,
    UnencodedLaw,
)
from service.models.job_lease import JobLease
from service.models.jurisdiction import Jurisdiction
from service.models.registry_load import RegistryLoad
from service.models.report import Report, ReportStatus
from service.models.substance import Substance, Synonym
from service.models.webhook import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "ActionKind",
    "Appearance",
    "ClassAction",
    "ClassDefinition",
    "ControlAction",
    "DeliveryStatus",
    "Exclusion",
    "JobLease",
    "Jurisdiction",
    "Origin",
    "Precision",
    "RegistryLoad",
    "Report",
    "ReportStatus",
    "ReporterType",
    "Substance",
    "Synonym",
    "UnencodedLaw",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
