"""What every endpoint module of the emulator shares: its dependencies and small helpers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query

from voicefs.emulator.state import EmulatorState, authenticated_user, emulator_state
from voicefs.emulator.store import Row

State = Annotated[EmulatorState, Depends(emulator_state)]
User = Annotated[Row, Depends(authenticated_user)]
Offset = Annotated[int, Query(ge=0)]
Direction = Annotated[str, Query(pattern="^(asc|desc)$")]


def limit(maximum: int, default: int = 50) -> Any:
    return Query(default, ge=0, le=maximum)


def optional_id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None
