"""Every route declares its permission: find each route's guards, and refuse an app with an undeclared route."""

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.security.deps import Require
from api.security.permissions import PUBLIC_ROUTES, Permission


class UndeclaredRouteError(RuntimeError):
    """A route neither declares a permission nor is public."""


def _guards(dependant: Dependant) -> set[Require]:
    found: set[Require] = set()
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Require):
            found.add(dependency.call)
        found |= _guards(dependency)
    return found


def route_guards(app: FastAPI) -> dict[tuple[str, str], frozenset[Require]]:
    """(method, path) of every API route, with the guards it declares (empty for none)."""
    table: dict[tuple[str, str], frozenset[Require]] = {}
    # Included routers are resolved lazily; their route contexts carry the effective path and dependencies.
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            guards = frozenset(_guards(route.dependant))
            for method in sorted(route.methods or ()):
                table[(method, route.path_format or route.path)] = guards
    return table


def route_permissions(app: FastAPI) -> dict[tuple[str, str], frozenset[Permission]]:
    return {key: frozenset(guard.permission for guard in guards) for key, guards in route_guards(app).items()}


def undeclared_routes(app: FastAPI) -> list[str]:
    return [
        f"{method} {path}"
        for (method, path), permissions in sorted(route_permissions(app).items())
        if not permissions and (method, path) not in PUBLIC_ROUTES
    ]


def assert_routes_declared(app: FastAPI) -> None:
    """Default deny: refuse to serve when a route admits callers without declaring a permission."""
    missing = undeclared_routes(app)
    if missing:
        raise UndeclaredRouteError(
            f"{', '.join(missing)} declare no permission; add "
            "`Annotated[Principal, Depends(require(Permission.X))]` (api.security.deps) or list the route "
            "in api.security.permissions.PUBLIC_ROUTES."
        )
