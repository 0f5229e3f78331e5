"""Item analysis: statistics per question version from submitted attempts, and the
worklist rules that turn them into "questions that need a look".

Every figure comes with the count behind it. Full mocks and drills are analysed apart
(a drill's candidates chose its domain, so its facility is not comparable with a mock's);
missed-question practice is left out entirely, since it only draws questions the candidate
already got wrong or flagged and would bias every figure. Only SUBMITTED attempts count.

The database does the aggregation (one grouped query over the attempt items, see
`_STATISTICS_SQL`); Python finishes each version's figures from a handful of rows of sums
per version, so a page costs the same number of queries whatever the number of attempts.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, fields

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, Max, Q, Sum

from exams.models import Attempt, AttemptItem, ProblemReport
from questions.models import Choice, Exam, QuestionVersion

MODES = {Attempt.Mode.FULL: "Full mocks", Attempt.Mode.DRILL: "Drills"}

# Kelley (1939), "The selection of upper and lower groups for the validation of test
# items", J. Educ. Psychol. 30: the upper and lower 27% by total score give the most
# sensitive comparison of the extremes. Used as a whole percent in SQL integer arithmetic.
GROUP_PERCENT = 27


@dataclass(frozen=True)
class Thresholds:
    """When a worklist rule fires. Defaults from the item-analysis literature; override any
    of them with `settings.ITEM_ANALYSIS = {"min_sample": 50, ...}`.

    - min_sample (30 responses): below it no statistical mark is shown. 30 is the usual
      floor for a stable proportion or correlation in classical item analysis (e.g.
      Moodle's quiz statistics warn that figures from few attempts are unreliable; Crocker &
      Algina 1986 ch. 14 recommend samples well above it for final decisions).
    - too_easy (facility > 0.90) and too_hard (facility < 0.20): Moodle quiz statistics,
      "Facility index": 90-94% "very easy", 11-20% "difficult", 5% or less "extremely
      difficult or something wrong with the question".
    - poor_discrimination (< 0.20): Ebel & Frisbie (1991), Essentials of Educational
      Measurement: an index under 0.20 marks a poor item to revise or discard; Moodle's
      "Discrimination index" calls 0-19% "very weak" and a negative value "probably invalid".
    - distractor_min_share (< 5% of responses): Haladyna & Downing (1993), "How many
      options is enough for a multiple-choice test item?", Educ. Psychol. Meas. 53: a
      distractor chosen by fewer than 5% of examinees is non-functioning.
    - flagged_share (> 30% of responses flagged for review): no literature value; a product
      choice, well above the flag rate of an ordinary question, so it points at stems that
      make candidates hesitate.
    - open_reports (≥ 1): any open problem report is a mark. A report is a person's direct
      statement, not a sampled statistic, so it has its own minimum, not min_sample.
    """

    min_sample: int = 30
    too_easy: float = 0.90
    too_hard: float = 0.20
    poor_discrimination: float = 0.20
    distractor_min_share: float = 0.05
    flagged_share: float = 0.30
    open_reports: int = 1


def thresholds() -> Thresholds:
    """The thresholds in force: the defaults overridden by `settings.ITEM_ANALYSIS`.

    Raises ImproperlyConfigured for an unknown name or a value of the wrong type."""
    overrides = getattr(settings, "ITEM_ANALYSIS", {}) or {}
    known = {f.name: f.type for f in fields(Thresholds)}
    values = {}
    for name, value in overrides.items():
        if name not in known:
            raise ImproperlyConfigured(f"ITEM_ANALYSIS: unknown threshold {name!r}")
        wanted = int if known[name] == "int" else float
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ImproperlyConfigured(f"ITEM_ANALYSIS[{name!r}] must be a number")
        if wanted is int and not float(value).is_integer():
            raise ImproperlyConfigured(f"ITEM_ANALYSIS[{name!r}] must be a whole number")
        values[name] = wanted(value)
    return Thresholds(**values)


@dataclass(frozen=True)
class Reason:
    """Why a question is on the worklist: a stable code (for filters and CSV) and words."""

    code: str
    text: str


REASON_LABELS = {
    "wrong_key": "Likely a wrong key",
    "poor_discrimination": "Discriminates poorly",
    "too_easy": "Too easy",
    "too_hard": "Too hard",
    "dead_distractor": "A distractor nobody picks",
    "flagged": "Frequently flagged",
    "reported": "Reported by candidates",
}


@dataclass
class ChoiceStats:
    """One choice of a version and how often it was picked. Shares are fractions 0-1 of
    the responses (items shown) in the whole sample, the upper and the lower group; None
    when the group is empty. For a multiple-response version shares do not sum to 1."""

    choice_id: int
    position: int
    text: str
    is_key: bool
    picks: int = 0
    upper_picks: int = 0
    lower_picks: int = 0
    share: float | None = None
    upper_share: float | None = None
    lower_share: float | None = None

    @property
    def letter(self) -> str:
        return "ABCDEF"[self.position] if 0 <= self.position < 6 else str(self.position + 1)


@dataclass
class ItemStats:
    """Figures for one question version in one mode (full or drill).

    n: responses (the version shown in a submitted attempt of that mode, answered or not).
    facility: correct / n (Moodle's "Facility index"), None when n = 0.
    discrimination: corrected item-total point-biserial r (see `discrimination`), full
    mocks only, None when undefined. upper_n / lower_n: the responses from attempts in the
    top and bottom 27% of the mode's submitted attempts by score (Kelley 1939);
    discrimination_index:
    facility(upper) - facility(lower) (Ebel's D). mean_time_seconds over the time_n
    responses that recorded time (> 0 s). flagged_share = flagged / n.
    """

    version_id: int
    question_id: int
    external_id: str
    version_number: int
    is_current: bool
    question_status: str
    domain_number: int
    domain_name: str
    task_code: str
    task_name: str
    mode: str
    select_count: int = 1
    n: int = 0
    correct: int = 0
    omitted: int = 0
    flagged: int = 0
    time_n: int = 0
    time_total_seconds: int = 0
    upper_n: int = 0
    lower_n: int = 0
    upper_correct: int = 0
    lower_correct: int = 0
    discrimination: float | None = None
    reports_open: int = 0
    reports_total: int = 0
    choices: list[ChoiceStats] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def mode_label(self) -> str:
        return MODES[self.mode]

    @property
    def facility(self) -> float | None:
        return self.correct / self.n if self.n else None

    @property
    def flagged_share(self) -> float | None:
        return self.flagged / self.n if self.n else None

    @property
    def mean_time_seconds(self) -> float | None:
        return self.time_total_seconds / self.time_n if self.time_n else None

    @property
    def discrimination_index(self) -> float | None:
        if not self.upper_n or not self.lower_n:
            return None
        return self.upper_correct / self.upper_n - self.lower_correct / self.lower_n


def discrimination(*, n: int, sx: int, sy: int, sxy: int, syy: int) -> float | None:
    """Corrected item-total correlation from sums, for a 0/1 item score x and the rest
    score y = attempt total - x, over n responses:

        r = (n·Σxy - Σx·Σy) / √((n·Σx² - (Σx)²) · (n·Σy² - (Σy)²)),   Σx² = Σx for 0/1 x

    This is Pearson's r with a dichotomous x, i.e. the point-biserial coefficient, taken
    against the rest of the test so the item does not correlate with itself (Crocker &
    Algina 1986, Introduction to Classical and Modern Test Theory, §14.3; Moodle's quiz
    statistics "Discrimination index": "the correlation between the weighted scores on the
    question and those on the rest of the test (not the whole test)"). Range -1 … 1.

    Sums are integers, so the arithmetic is exact up to the final square root. Returns None
    when r is undefined: fewer than 2 responses, or everyone scored alike on the item or on
    the rest of the test."""
    if n < 2:
        return None
    var_x = n * sx - sx * sx
    var_y = n * syy - sy * sy
    if var_x <= 0 or var_y <= 0:
        return None
    return (n * sxy - sx * sy) / math.sqrt(var_x * var_y)


# The submitted attempts of one exam in the modes analysed, each put in the upper group (1:
# the top 27% of its mode by score, ties broken by attempt id so the groups are exactly 27%
# and stable), the lower group (-1: the bottom 27%) or neither (0). Then, per version, mode,
# answer given (the `selected` list as stored) and group: n, the sums Σx, Σy, Σxy, Σy² with
# x the item score and y = attempt total - x, flags, and time. Grouping by the answer gives
# the choice picks without expanding the JSON lists in SQL (a version has only a handful of
# distinct answers), so the one query is the same on SQLite and PostgreSQL.
_STATISTICS_SQL = """
WITH ranked AS (
    SELECT id, mode, correct_count,
           ROW_NUMBER() OVER (
               PARTITION BY mode ORDER BY correct_count * 1.0 / question_count DESC, id
           ) AS score_rank,
           COUNT(*) OVER (PARTITION BY mode) AS attempts
    FROM {attempt}
    WHERE exam_id = %s AND status = %s AND mode IN ({modes})
),
grouped AS (
    SELECT id, mode, correct_count AS total,
           CASE WHEN score_rank * 100 <= attempts * {group_percent} THEN 1
                WHEN (attempts - score_rank + 1) * 100 <= attempts * {group_percent} THEN -1
                ELSE 0 END AS score_group
    FROM ranked
),
responses AS (
    SELECT i.version_id, g.mode, i.selected, g.score_group, i.flagged, i.time_spent_seconds,
           CASE WHEN i.is_correct THEN 1 ELSE 0 END AS x, g.total
    FROM {item} i JOIN grouped g ON g.id = i.attempt_id{only_versions}
)
SELECT version_id, mode, selected, score_group, COUNT(*),
       SUM(x), SUM(total - x), SUM(x * (total - x)), SUM((total - x) * (total - x)),
       SUM(CASE WHEN flagged THEN 1 ELSE 0 END),
       SUM(CASE WHEN time_spent_seconds > 0 THEN 1 ELSE 0 END),
       SUM(time_spent_seconds)
FROM responses
GROUP BY version_id, mode, selected, score_group
"""


# Reading the grouped responses goes through every response of the exam (650,000 for 1,000
# candidates x 10 mocks: seconds on SQLite), while an instructor sorting, filtering, paging
# and exporting asks for the same rows again and again. So the rows are kept in this
# process, keyed by a fingerprint of the submitted attempts (how many, the latest
# submission, the sum of their scores) read in one cheap query: a new submission is seen at
# once. RESPONSE_ROWS_SECONDS bounds reuse of rows whose fingerprint has not moved, for a
# change it cannot see (scores corrected in place); `response_rows_forget` drops them all.
RESPONSE_ROWS_SECONDS = 300
RESPONSE_ROWS_KEPT = 8
_response_rows: OrderedDict[tuple, tuple[float, list]] = OrderedDict()
_response_rows_lock = threading.Lock()


def response_rows_forget() -> None:
    """Drop the kept response rows, so the next statistics are read afresh."""
    with _response_rows_lock:
        _response_rows.clear()


def _response_groups(exam_id: int, modes: list[str], version_ids: list[int] | None) -> list:
    """The rows of `_STATISTICS_SQL`, the answer decoded to a frozenset of choice ids:
    1 query when kept rows still fit, else 2."""
    fingerprint = Attempt.objects.filter(
        exam_id=exam_id, status=Attempt.Status.SUBMITTED, mode__in=modes
    ).aggregate(n=Count("id"), last=Max("submitted_at"), total=Sum("correct_count"))
    key = (
        connection.alias,
        str(connection.settings_dict["NAME"]),
        exam_id,
        tuple(modes),
        tuple(version_ids) if version_ids is not None else None,
        tuple(fingerprint.values()),
    )
    now = time.monotonic()
    with _response_rows_lock:
        kept = _response_rows.get(key)
        if kept is not None and now - kept[0] < RESPONSE_ROWS_SECONDS:
            _response_rows.move_to_end(key)
            return kept[1]
    only = ""
    params: list = [exam_id, Attempt.Status.SUBMITTED.value, *modes]
    if version_ids is not None:
        only = f" WHERE i.version_id IN ({', '.join(['%s'] * len(version_ids))})"
        params += version_ids
    sql = _STATISTICS_SQL.format(
        item=AttemptItem._meta.db_table,
        attempt=Attempt._meta.db_table,
        modes=", ".join(["%s"] * len(modes)),
        group_percent=GROUP_PERCENT,
        only_versions=only,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        # Each stored answer decoded once, here, rather than on every reuse.
        decoded: dict = {}
        rows = [(*r[:2], _choice_ids(r[2], decoded), *r[3:]) for r in cursor.fetchall()]
    with _response_rows_lock:
        _response_rows[key] = (now, rows)
        while len(_response_rows) > RESPONSE_ROWS_KEPT:
            _response_rows.popitem(last=False)
    return rows


def _choice_ids(selected, cache: dict) -> frozenset[int]:
    """The choice ids of a stored answer as the cursor returns it (JSON text, or already a
    list on drivers that decode JSON)."""
    key = selected if isinstance(selected, str) else json.dumps(selected)
    if key not in cache:
        value = json.loads(selected) if isinstance(selected, str) else selected
        ids = value if isinstance(value, list) else []
        cache[key] = frozenset(i for i in ids if isinstance(i, int) and not isinstance(i, bool))
    return cache[key]


def item_statistics(
    *,
    exam: Exam,
    modes: list[str] | tuple[str, ...] = (Attempt.Mode.FULL,),
    version_ids: list[int] | None = None,
    current_only: bool = False,
    domain_number: int | None = None,
    task_code: str | None = None,
    limits: Thresholds | None = None,
) -> list[ItemStats]:
    """Item statistics and worklist reasons for the versions of `exam`'s questions, one
    `ItemStats` per version and mode, ordered by question id and version number.

    Filters: `version_ids` (only these), `current_only` (each question's current version),
    `domain_number`, `task_code`. A version nobody answered is listed with n = 0.
    Always 5 queries (versions, choices, the attempts' fingerprint, the grouped responses,
    problem reports), or 4 when the grouped responses are still kept from an earlier call
    (see RESPONSE_ROWS_SECONDS).
    Raises ValueError for a mode other than full or drill."""
    modes = [str(m) for m in modes]
    if not modes or any(m not in MODES for m in modes):
        raise ValueError(f"modes must be among {sorted(MODES)}")
    limits = limits or thresholds()
    versions = QuestionVersion.objects.filter(question__task__domain__exam=exam)
    if version_ids is not None:
        versions = versions.filter(pk__in=version_ids)
    if current_only:
        versions = versions.filter(current_of__isnull=False)
    if domain_number is not None:
        versions = versions.filter(question__task__domain__number=domain_number)
    if task_code:
        versions = versions.filter(question__task__code=task_code)
    rows = list(
        versions.order_by("question_id", "number").values(
            "id",
            "number",
            "select_count",
            "question_id",
            "question__external_id",
            "question__status",
            "question__current_version_id",
            "question__task__code",
            "question__task__name",
            "question__task__domain__number",
            "question__task__domain__name",
        )
    )
    ids = [r["id"] for r in rows]
    stats: dict[tuple[int, str], ItemStats] = {}
    for r in rows:
        for mode in modes:
            stats[(r["id"], mode)] = ItemStats(
                version_id=r["id"],
                question_id=r["question_id"],
                external_id=r["question__external_id"],
                version_number=r["number"],
                is_current=r["question__current_version_id"] == r["id"],
                question_status=r["question__status"],
                domain_number=r["question__task__domain__number"],
                domain_name=r["question__task__domain__name"],
                task_code=r["question__task__code"],
                task_name=r["question__task__name"],
                mode=mode,
                select_count=r["select_count"],
            )
    # The choice rows and the reports are fetched for the versions selected above by the
    # same filter (a subquery, not a list of ids), so a long list never travels back.
    choices = Choice.objects.filter(version__in=versions.values("pk")).order_by(
        "version_id", "position"
    )
    by_choice: dict[tuple[int, str, int], ChoiceStats] = {}
    for c in choices.values("id", "version_id", "position", "text", "is_correct"):
        for mode in modes:
            cs = ChoiceStats(c["id"], c["position"], c["text"], c["is_correct"])
            stats[(c["version_id"], mode)].choices.append(cs)
            by_choice[(c["version_id"], mode, c["id"])] = cs
    only = ids if version_ids is not None else None
    sums: dict[tuple[int, str], list[int]] = {}
    for vid, mode, picked, group, n, sx, sy, sxy, syy, fl, tn, tt in _response_groups(
        exam.pk, modes, only
    ):
        s = stats.get((vid, mode))
        if s is None:  # a version filtered out above (domain, task, current)
            continue
        s.n += n
        s.correct += sx
        s.flagged += fl
        s.time_n += tn
        s.time_total_seconds += tt
        acc = sums.setdefault((vid, mode), [0, 0, 0, 0])
        acc[0], acc[1], acc[2], acc[3] = acc[0] + sx, acc[1] + sy, acc[2] + sxy, acc[3] + syy
        if group == 1:
            s.upper_n += n
            s.upper_correct += sx
        elif group == -1:
            s.lower_n += n
            s.lower_correct += sx
        if not picked:
            s.omitted += n
        for choice_id in picked:
            cs = by_choice.get((vid, mode, choice_id))
            if cs is None:  # an id that is not a choice of this version
                continue
            cs.picks += n
            if group == 1:
                cs.upper_picks += n
            elif group == -1:
                cs.lower_picks += n
    for (vid, mode), (sx, sy, sxy, syy) in sums.items():
        if mode == Attempt.Mode.FULL:
            s = stats[(vid, mode)]
            s.discrimination = discrimination(n=s.n, sx=sx, sy=sy, sxy=sxy, syy=syy)
    reports = (
        ProblemReport.objects.filter(version__in=versions.values("pk"))
        .values("version_id")
        .annotate(total=Count("id"), open=Count("id", filter=Q(status=ProblemReport.Status.OPEN)))
    )
    report_counts = {r["version_id"]: (r["open"], r["total"]) for r in reports}
    result = list(stats.values())
    for s in result:
        s.reports_open, s.reports_total = report_counts.get(s.version_id, (0, 0))
        for cs in s.choices:
            cs.share = cs.picks / s.n if s.n else None
            cs.upper_share = cs.upper_picks / s.upper_n if s.upper_n else None
            cs.lower_share = cs.lower_picks / s.lower_n if s.lower_n else None
        s.reasons = worklist_reasons(s, limits)
    return result


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def worklist_reasons(s: ItemStats, limits: Thresholds) -> list[Reason]:
    """The reasons, in words, why this version needs a look; empty when none applies.

    Statistical rules need n ≥ limits.min_sample responses in the mode analysed:
    - wrong_key: discrimination < 0 (full mocks), or a distractor picked by more of the
      upper group (top 27% by score) than the least-picked key;
    - poor_discrimination: 0 ≤ discrimination < limits.poor_discrimination;
    - too_easy / too_hard: facility above limits.too_easy / below limits.too_hard;
    - dead_distractor: a distractor picked by under limits.distractor_min_share of responses;
    - flagged: flagged share above limits.flagged_share.
    The report rule needs limits.open_reports open problem reports, whatever n is."""
    reasons: list[Reason] = []
    if s.n >= limits.min_sample:
        keys = [c for c in s.choices if c.is_key]
        distractors = [c for c in s.choices if not c.is_key]
        r = s.discrimination
        if r is not None and r < 0:
            reasons.append(
                Reason(
                    "wrong_key",
                    f"Likely a wrong key: discrimination is negative ({r:.2f}, n = {s.n}); "
                    "stronger candidates get it wrong more often than weaker ones.",
                )
            )
        elif s.upper_n and keys:
            weakest_key = min(keys, key=lambda c: c.upper_picks)
            strong_pick = max(distractors, key=lambda c: c.upper_picks, default=None)
            if strong_pick is not None and strong_pick.upper_picks > weakest_key.upper_picks:
                reasons.append(
                    Reason(
                        "wrong_key",
                        f"Likely a wrong key: the strongest candidates (top {GROUP_PERCENT}%, "
                        f"n = {s.upper_n}) picked distractor {strong_pick.letter} "
                        f"({strong_pick.upper_picks}) more often than the key "
                        f"{weakest_key.letter} ({weakest_key.upper_picks}).",
                    )
                )
        if r is not None and 0 <= r < limits.poor_discrimination:
            reasons.append(
                Reason(
                    "poor_discrimination",
                    f"Discriminates poorly: discrimination {r:.2f} is below "
                    f"{limits.poor_discrimination:.2f} (n = {s.n}).",
                )
            )
        facility = s.facility
        if facility is not None and facility > limits.too_easy:
            reasons.append(
                Reason(
                    "too_easy",
                    f"Too easy: {_pct(facility)} answered correctly ({s.correct} of {s.n}), "
                    f"above {_pct(limits.too_easy)}.",
                )
            )
        if facility is not None and facility < limits.too_hard:
            reasons.append(
                Reason(
                    "too_hard",
                    f"Too hard: {_pct(facility)} answered correctly ({s.correct} of {s.n}), "
                    f"below {_pct(limits.too_hard)}.",
                )
            )
        dead = [c for c in distractors if c.picks < limits.distractor_min_share * s.n]
        if dead:
            letters = ", ".join(f"{c.letter} ({c.picks} of {s.n})" for c in dead)
            reasons.append(
                Reason(
                    "dead_distractor",
                    f"{'A distractor nobody picks' if len(dead) == 1 else 'Distractors nobody picks'}"
                    f": {letters}, under {_pct(limits.distractor_min_share)} of responses.",
                )
            )
        if s.flagged_share is not None and s.flagged_share > limits.flagged_share:
            reasons.append(
                Reason(
                    "flagged",
                    f"Frequently flagged: {_pct(s.flagged_share)} of responses "
                    f"({s.flagged} of {s.n}) flagged it for review, "
                    f"above {_pct(limits.flagged_share)}.",
                )
            )
    if s.reports_open >= limits.open_reports:
        reasons.append(
            Reason(
                "reported",
                f"Reported by candidates: {s.reports_open} open problem "
                f"report{'s' if s.reports_open != 1 else ''} ({s.reports_total} in all).",
            )
        )
    return reasons
