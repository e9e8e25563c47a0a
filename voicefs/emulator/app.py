"""The emulator's ASGI application: the service's routes, its error shape, and test hooks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import JSONResponse

from voicefs.emulator import bodies
from voicefs.emulator.errors import ServiceError
from voicefs.emulator.faults import FaultMiddleware
from voicefs.emulator.routes import files_router
from voicefs.emulator.routes import router as api_router
from voicefs.emulator.routes_catalog import router as catalog_router
from voicefs.emulator.seed import apply_seed
from voicefs.emulator.state import EmulatorState

hooks = APIRouter(prefix="/_emulator")


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


@hooks.get("/requests")
def request_counts(request: Request) -> dict[str, Any]:
    return _state(request).counter.snapshot()


@hooks.delete("/requests")
def reset_request_counts(request: Request) -> dict[str, Any]:
    _state(request).counter.reset()
    return {"detail": "OK"}


@hooks.post("/reset")
def reset(request: Request) -> dict[str, Any]:
    """Forgets all data, counters and fault settings, then applies the start-up seed again."""
    state = _state(request)
    state.store.wipe()
    state.counter.reset()
    state.set_faults(state.startup_faults)
    created = apply_seed(state.store, state.seed, state.primary_api_key)
    return {"detail": "OK", "seeded": created}


@hooks.post("/users")
def create_user(request: Request, body: bodies.NewUser) -> dict[str, Any]:
    state = _state(request)
    suffix = state.store.clock.now()
    email = body.email or f"user-{int(suffix * 1000)}@example.com"
    password = body.password or "password"
    if body.credits is None:
        return state.store.create_user(email, password)
    return state.store.create_user(email, password, credits=body.credits)


@hooks.get("/faults")
def get_faults(request: Request) -> dict[str, Any]:
    return _state(request).faults.as_dict()


@hooks.post("/faults")
def set_faults(request: Request, changes: dict[str, Any] = Body(...)) -> Any:
    state = _state(request)
    try:
        state.set_faults(state.faults.updated(changes))
    except (TypeError, ValueError) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return state.faults.as_dict()


@hooks.delete("/faults")
def clear_faults(request: Request) -> dict[str, Any]:
    state = _state(request)
    state.set_faults(state.startup_faults)
    return state.faults.as_dict()


def create_app(state: EmulatorState) -> FastAPI:
    app = FastAPI(title="voicefs emulator of the Voice Marketplace API", docs_url="/_emulator/docs")
    app.state.emulator = state

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    app.include_router(hooks)
    routers = (api_router, catalog_router, files_router)  # in this order: files takes the rest
    for router in routers:
        app.include_router(router)
    state.routes = [route for router in routers for route in router.routes]
    app.add_middleware(FaultMiddleware, state=state)
    return app
