"""What the ground floor's tables hold, for the personal-data registry."""

from core.models import AuditEvent, OutboxTask, TaskFailure, TaskRun
from core.registry import registry

registry.exempt(
    AuditEvent,
    reason="Ids, actions and field names only, never values; kept for accountability (art. 5(2)).",
)
registry.exempt(
    OutboxTask,
    reason="Task names and ids; a subscription's confirmation carries its signed link (address, "
    "name, purposes) only until the broker takes it, and the row is then deleted.",
)
registry.exempt(
    TaskRun,
    reason="Periodic task names, times and the class of their last error; no data of anyone.",
)
registry.exempt(
    TaskFailure,
    reason="Task names, times and exception classes (never their messages); kept seven days.",
)
