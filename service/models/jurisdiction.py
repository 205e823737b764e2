"""Jurisdictions: the places whose schedules the registry records."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, text
from sqlmodel import Field, SQLModel


class Jurisdiction(SQLModel, table=True):
    """A country, a supranational body (EU) or the UN conventions."""

    __tablename__ = "jurisdictions"
    __table_args__ = (
        CheckConstraint("kind IN ('national', 'supranational', 'international')", name="kind"),
    )

    code: str = Field(primary_key=True, max_length=8)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    members: str = Field(default="", max_length=400)
    includes: str = Field(
        default="", max_length=100, sa_column_kwargs={"server_default": text("''")}
    )
    source: str = Field(max_length=2000)

    def member_codes(self) -> set[str]:
        """ISO codes of the members of a supranational body (empty for others)."""
        return {m for m in self.members.split("|") if m}

    def included_codes(self) -> list[str]:
        """Jurisdictions whose controls apply here by law too (the EU includes the UN schedules)."""
        return [c for c in self.includes.split("|") if c]
