"""Typed records of the content contract (../shared/CONTENT-MODEL.md).

Every key is optional at the type level: the loader reports missing required keys itself,
so that a record with a problem still loads and cross-record checks can run on it.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

POLICY_STATUSES = ("effective", "expired", "repealed", "draft")
ISSUE_STATUSES = ("received", "assigned", "in_progress", "resolved", "explained", "escalated", "closed")
CLOSED_STATUSES = ("resolved", "explained", "closed")
OPEN_STATUSES = ("received", "assigned", "in_progress", "escalated")
SATISFACTION = ("满意", "基本满意", "不满意")
# Steps of the loop that follow 办结 (closed_on): answering the company, its rating, 销号, notes.
AFTER_CLOSURE_ACTIONS = ("反馈", "评价", "销号", "备注")

from policykb.content.statuses import ISSUE_STATUS_LABEL, POLICY_STATUS_LABEL, policy_status  # noqa: E402,F401 (re-exported)


class InvalidDate(str):
    """A YAML timestamp that is not a real date (2025-02-30): kept as text for a precise error."""


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD = re.compile(r"^\d+[dwmy]$")


def _date(v: Any) -> Any:
    if v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)):
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, str) and ISO_DATE.match(v.strip()):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise PydanticCustomError("pkb_date", "不是有效日期")


# A date as people write it in Chinese documents: 2025年3月1日, 2025.3.1, 2025/3/1, 2025-3-1.
WRITTEN_DATE = re.compile(r"^(\d{4})\s*(?:年|[./\-])\s*(\d{1,2})\s*(?:月|[./\-])\s*(\d{1,2})\s*日?$")


def written_date(text: str) -> dt.date | None:
    """The date in a Chinese-written date (full-width digits allowed), else None.
    Raises ValueError when it has the shape of a date but is not a real one (2025年2月30日)."""
    m = WRITTEN_DATE.match(unicodedata.normalize("NFKC", text).strip())
    if not m:
        return None
    return dt.date(int(m[1]), int(m[2]), int(m[3]))


def _deadline(v: Any) -> Any:
    """apply.deadline: a date, a Chinese-written date (read as that date; the loader hints to
    write YYYY-MM-DD), or a text for a rolling scheme (常年受理), kept as written."""
    if isinstance(v, str) and not isinstance(v, InvalidDate) and not ISO_DATE.match(v.strip()):
        text = v.strip()
        if not text:
            return None
        try:
            found = written_date(text)
        except ValueError:
            raise PydanticCustomError("pkb_date", "不是有效日期") from None
        return found if found else text
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise PydanticCustomError("pkb_date", "不是有效日期")
    return _date(v)


def _text(v: Any) -> Any:
    # Phone numbers and years are often written unquoted; they are still text.
    if isinstance(v, bool):
        raise PydanticCustomError("pkb_text", "应为文本")
    if isinstance(v, (int, float)):
        return str(v)
    if v is None or isinstance(v, str):
        return v.strip() if isinstance(v, str) else v
    raise PydanticCustomError("pkb_text", "应为文本")


def _text_list(v: Any) -> Any:
    if v is None:
        return []
    if isinstance(v, (str, int, float)) and not isinstance(v, bool):
        return [str(v)]  # the loader warns about the shorthand
    if isinstance(v, list):
        out = []
        for item in v:
            if isinstance(item, (str, int, float)) and not isinstance(item, bool):
                out.append(str(item).strip())
            else:
                raise PydanticCustomError("pkb_text_list", "列表中的每一项都应为文本")
        return out
    raise PydanticCustomError("pkb_text_list", "应为列表")


Date = Annotated[Optional[dt.date], BeforeValidator(_date)]
Deadline = Annotated[Union[dt.date, str, None], BeforeValidator(_deadline)]
Text = Annotated[Optional[str], BeforeValidator(_text)]
TextList = Annotated[list[str], BeforeValidator(_text_list)]


class _Strictish(BaseModel):
    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)


class Apply(_Strictish):
    department: Text = None
    phone: Text = None
    url: Text = None
    deadline: Deadline = None  # a date, or the text of a rolling deadline (常年受理); see deadline_date / rolling
    how: Text = None

    @property
    def deadline_date(self) -> dt.date | None:
        """The application deadline when it is a date; None when there is none or it is rolling."""
        return self.deadline if isinstance(self.deadline, dt.date) else None

    @property
    def rolling(self) -> str | None:
        """The text of a rolling deadline (常年受理, 按年度通知申报), shown as written; else None."""
        return self.deadline if isinstance(self.deadline, str) else None

    @property
    def deadline_text(self) -> str | None:
        """What a person reads: YYYY-MM-DD, the rolling text as written, or None."""
        return self.deadline.isoformat() if isinstance(self.deadline, dt.date) else self.deadline


class Review(_Strictish):
    owner: Text = None
    last_reviewed: Date = None
    every: Text = None

    def next_due(self) -> dt.date | None:
        if not (self.last_reviewed and self.every and PERIOD.match(self.every)):
            return None
        n, unit = int(self.every[:-1]), self.every[-1]
        days = {"d": 1, "w": 7}.get(unit)
        if days:
            return self.last_reviewed + dt.timedelta(days=n * days)
        months = n * (12 if unit == "y" else 1)
        y, m = divmod(self.last_reviewed.month - 1 + months, 12)
        year, month = self.last_reviewed.year + y, m + 1
        day = min(self.last_reviewed.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                                           31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
        return dt.date(year, month, day)


class HistoryEntry(_Strictish):
    date: Date = None
    by: Text = None
    action: Text = None
    note: Text = None


class Record(_Strictish):
    """Common part: identity and position, filled by the loader (not from front matter)."""
    id: str = ""
    kind: str = ""
    relpath: str = ""  # path relative to the content root, POSIX style
    path: Path = Field(default=Path("."), exclude=True)
    body: str = ""
    body_line: int = 1
    lines: dict = Field(default_factory=dict, exclude=True, repr=False)
    # What the loader found, for the validator: was there usable front matter (False: missing or
    # unreadable, already reported, nothing in it checked), and which key paths did it report and drop.
    front_matter_ok: bool = Field(default=True, exclude=True, repr=False)
    rejected: frozenset = Field(default_factory=frozenset, exclude=True, repr=False)

    def was_rejected(self, *keys) -> bool:
        """Did the loader already report (and drop) the value at this key path or inside it?"""
        n = len(keys)
        return any(path[:n] == keys for path in self.rejected)

    def line_of(self, *keys) -> int:
        """Line of a key path such as ("apply", "deadline"), falling back to its parents."""
        keys = tuple(keys)
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return self.lines.get((), 1)

    @property
    def display_title(self) -> str:
        return getattr(self, "title", None) or getattr(self, "question", None) or self.id


class Condition(_Strictish):
    """One eligibility condition (政策计算器); checked by content/eligibility.py."""
    field: Text = None
    op: Text = None
    value: Any = None
    text: Text = None
    unit: Text = None


class Policy(Record):
    kind: str = "policy"
    title: Text = None
    doc_number: Text = None
    issuer: TextList = Field(default_factory=list)
    region: Text = None
    published: Date = None
    effective: Date = None
    expires: Date = None
    status: Optional[Literal[POLICY_STATUSES]] = None  # type: ignore[valid-type]
    supersedes: TextList = Field(default_factory=list)
    superseded_by: TextList = Field(default_factory=list)
    categories: TextList = Field(default_factory=list)
    enterprise_types: TextList = Field(default_factory=list)
    support: TextList = Field(default_factory=list)
    keywords: TextList = Field(default_factory=list)
    summary: Text = None
    apply: Optional[Apply] = None
    source: Text = None
    review: Optional[Review] = None
    eligibility: Annotated[list[Condition], BeforeValidator(lambda v: [] if v is None else v)] = Field(default_factory=list)  # project addition: machine-readable conditions; an empty key means none

    def status_on(self, today: dt.date) -> str:
        """Status on `today` (dates win over an outdated `status`; see statuses.policy_status)."""
        return policy_status(self.status, self.expires, today)

    def is_current(self, today: dt.date) -> bool:
        return self.status_on(today) == "effective"


class Faq(Record):
    kind: str = "faq"
    question: Text = None
    aliases: TextList = Field(default_factory=list)
    categories: TextList = Field(default_factory=list)
    policies: TextList = Field(default_factory=list)
    issues: TextList = Field(default_factory=list)
    department: Text = None
    region: Text = None
    updated: Date = None
    draft: Optional[bool] = None  # project addition: not published or matched until an editor removes it


class Issue(Record):
    kind: str = "issue"
    title: Text = None
    received: Date = None
    category: Text = None
    status: Optional[Literal[ISSUE_STATUSES]] = None  # type: ignore[valid-type]
    enterprise: Text = None
    contact: Text = None
    channel: Text = None
    region: Text = None
    service_group: Text = None
    officer: Text = None
    department: Text = None
    due: Date = None
    closed_on: Date = None
    escalated_to: Text = None
    resolution: Text = None
    satisfaction: Optional[Literal[SATISFACTION]] = None  # type: ignore[valid-type]
    policies: TextList = Field(default_factory=list)
    faq: TextList = Field(default_factory=list)
    public: Optional[bool] = None
    history: list[HistoryEntry] = Field(default_factory=list)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


MODELS = {"policy": Policy, "faq": Faq, "issue": Issue}
REQUIRED = {"policy": ("title",), "faq": ("question",), "issue": ("title", "received", "category", "status")}
RECOMMENDED = {"policy": ("doc_number", "issuer", "region", "published", "categories", "summary"),
               "faq": ("categories",), "issue": ()}
# Lists of text, where a single text is accepted as a one-item list (with a warning).
LIST_FIELDS = {name for m in MODELS.values() for name, f in m.model_fields.items() if _text_list in
               [getattr(x, "func", None) for x in f.metadata]}
KNOWN_FIELDS = {kind: set(m.model_fields) - set(Record.model_fields) for kind, m in MODELS.items()}
RESERVED = set(Record.model_fields)
