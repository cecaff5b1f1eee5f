"""THE table of which role may do what; every route declares one of these permissions, the default is deny."""

from enum import StrEnum
from typing import NamedTuple

from billing.practice import Role


class Permission(StrEnum):
    ACCOUNT_SELF = "account.self"
    QUEUE_VIEW = "queue.view"
    CHARGES_REVIEW = "charges.review"
    CLAIMS_REVIEW = "claims.review"
    APPEALS_REVIEW = "appeals.review"
    REMITTANCES_UPLOAD = "remittances.upload"
    DISPUTES_REVIEW = "disputes.review"
    CHAT_USE = "chat.use"
    METRICS_VIEW = "metrics.view"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    EVENTS_RETRIGGER = "events.retrigger"
    ADMIN_USERS = "admin.users"
    ADMIN_FEATURES = "admin.features"
    ADMIN_POLICIES = "admin.policies"
    WEBHOOKS_RECEIVE = "webhooks.receive"
    CONTRACTS_VIEW = "contracts.view"
    CONTRACTS_INTAKE = "contracts.intake"


class Grant(NamedTuple):
    roles: frozenset[Role]
    allows: str


STAFF = frozenset({Role.BILLER, Role.CODER, Role.ADMIN})

PERMISSIONS: dict[Permission, Grant] = {
    Permission.ACCOUNT_SELF: Grant(STAFF, "see who you are, sign out, manage your own API keys"),
    Permission.QUEUE_VIEW: Grant(STAFF, "list review items of your practices"),
    Permission.CHARGES_REVIEW: Grant(frozenset({Role.CODER}), "approve, edit or reject suggested charges"),
    Permission.CLAIMS_REVIEW: Grant(frozenset({Role.BILLER}), "approve, edit or reject claim fixes"),
    Permission.APPEALS_REVIEW: Grant(frozenset({Role.BILLER}), "approve, edit or reject appeal drafts"),
    Permission.REMITTANCES_UPLOAD: Grant(
        frozenset({Role.BILLER, Role.ADMIN}), "upload an 835 remittance file to post and triage it"
    ),
    Permission.DISPUTES_REVIEW: Grant(frozenset({Role.BILLER}), "approve, edit or reject payer disputes"),
    Permission.CHAT_USE: Grant(STAFF, "ask the copilot in chat (its writes still pass the same reviews)"),
    Permission.METRICS_VIEW: Grant(STAFF, "see acceptance rates, time saved, denial trends"),
    Permission.AUDIT_VIEW: Grant(STAFF, "read the audit records of your practices"),
    Permission.AUDIT_EXPORT: Grant(frozenset({Role.ADMIN}), "export the audit log and verify its chain"),
    Permission.EVENTS_RETRIGGER: Grant(frozenset({Role.ADMIN}), "re-run a stored Crystal PM event"),
    Permission.ADMIN_USERS: Grant(
        frozenset({Role.ADMIN}), "create and change users, roles, practices, passwords"
    ),
    Permission.ADMIN_FEATURES: Grant(frozenset({Role.ADMIN}), "turn a feature's kill switch on or off"),
    Permission.ADMIN_POLICIES: Grant(frozenset({Role.ADMIN}), "change autopilot and review policies"),
    Permission.WEBHOOKS_RECEIVE: Grant(
        frozenset({Role.SERVICE}), "deliver Crystal PM webhooks (authenticated by their HMAC signature)"
    ),
    Permission.CONTRACTS_VIEW: Grant(
        STAFF, "see contract terms, the contract variance dashboard and the dispute worklist"
    ),
    Permission.CONTRACTS_INTAKE: Grant(
        frozenset({Role.BILLER, Role.ADMIN}), "upload contract terms and approve them before they are used"
    ),
}

# Reachable without signing in; everything else must declare a permission (api.security.registry).
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/ready"),
        ("GET", "/auth/login"),
        ("POST", "/auth/login"),
        # The web UI's sign-in form, and `/`, which only redirects to the UI.
        ("GET", "/"),
        ("GET", "/ui/login"),
        ("POST", "/ui/login"),
    }
)

ROLE_ORDER = (Role.BILLER, Role.CODER, Role.ADMIN, Role.SERVICE)


def roles_for(permission: Permission) -> frozenset[Role]:
    return PERMISSIONS[permission].roles


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    """Everything a holder of any of `roles` may do."""
    return frozenset(permission for permission, grant in PERMISSIONS.items() if grant.roles & set(roles))


def render_roles_markdown() -> str:
    """docs/roles.md, generated from PERMISSIONS (a test keeps the file and the table equal)."""
    lines = [
        "# Roles and permissions",
        "",
        "Generated from `api/security/permissions.py` by `render_roles_markdown()`; edit the table there.",
        "Every route declares one permission; `create_app` refuses a route that declares none (default deny).",
        "Users see only the items, metrics and audit records of the practices they belong to; another",
        "practice's resources answer 404.",
        "",
        "| permission | allows | " + " | ".join(role.value for role in ROLE_ORDER) + " |",
        "|---|---|" + "---|" * len(ROLE_ORDER),
    ]
    for permission, grant in PERMISSIONS.items():
        marks = " | ".join("yes" if role in grant.roles else "" for role in ROLE_ORDER)
        lines.append(f"| `{permission.value}` | {grant.allows} | {marks} |")
    lines += [
        "",
        "Public (no sign-in): "
        + ", ".join(f"`{method} {path}`" for method, path in sorted(PUBLIC_ROUTES))
        + ", and the API documentation (`/docs`, `/openapi.json`).",
        "",
        "How each role proves who it is:",
        "",
        "- Biller, Coder, Admin: a session cookie from `POST /auth/login` (argon2 passwords, idle and absolute",
        "  timeouts, lockout after repeated failures; state-changing requests also send `X-CSRF-Token`), or an",
        "  API key from `POST /auth/api-keys` sent as `Authorization: Bearer <key>` (no CSRF token needed).",
        "- Service: Crystal PM's webhook delivery, authenticated by its HMAC signature and timestamp; a valid",
        "  signature is the Service principal.",
        "",
    ]
    return "\n".join(lines)
