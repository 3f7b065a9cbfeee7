"""Agreement between reviewers and per-reviewer figures for the stats page (team review).

Agreement is measured on the overlap sample's blind votes: on accept / reject (an edit accepts the pair
with better English) and, where both rejected, on the reason. Cohen's kappa for each pair of reviewers,
Krippendorff's alpha (nominal) over everyone, each with the number of items it rests on. Both are
chance-corrected: 1 is full agreement, 0 what chance alone gives; they are undefined (shown as "–") when
every vote fell in one category.
"""
from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from html import escape
from itertools import combinations

from markupsafe import Markup

from ..store import Store

WIDTH, HEIGHT, PAD = 360, 90, 18
COLOURS = {"approved": "#1b7f3b", "edited": "#2f5fb3", "rejected": "#b3261e"}
DECISIONS = ("approve", "reject", "edit", "bulk-approve")
EDIT_SAMPLE = 300          # edits per reviewer measured for their size (the newest)


def accepts(status: str) -> str:
    return "rejected" if status == "rejected" else "accepted"


def cohen_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when chance agreement is total."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / (n * n)
    if expected >= 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: list[list[str]]) -> float | None:
    """Krippendorff's alpha for nominal labels; each unit is the labels of one item (units with fewer
    than two labels carry no information and are left out). None when there is no disagreement possible."""
    coincidences: Counter = Counter()
    for labels in units:
        m = len(labels)
        if m < 2:
            continue
        for i, a in enumerate(labels):
            for j, b in enumerate(labels):
                if i != j:
                    coincidences[a, b] += 1 / (m - 1)
    totals: Counter = Counter()
    for (a, _), value in coincidences.items():
        totals[a] += value
    n = sum(totals.values())
    if n <= 1:
        return None
    observed = sum(v for (a, b), v in coincidences.items() if a != b)
    expected = sum(totals[a] * totals[b] for a in totals for b in totals if a != b) / (n - 1)
    if expected == 0:
        return None
    return 1 - observed / expected


def agreement(votes) -> dict:
    """From the paired blind votes (rows: translation_id, name, status, reason): per reviewer pair and
    overall, on accept/reject and on reasons."""
    by_item: dict[int, list] = defaultdict(list)
    for v in votes:
        by_item[v["translation_id"]].append(v)
    per_pair: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: {"decision": [], "reason": []})
    units, reason_units = [], []
    for item in by_item.values():
        units.append([accepts(v["status"]) for v in item])
        rejected = [v for v in item if v["status"] == "rejected"]
        if len(rejected) == len(item):
            reason_units.append([v["reason"] or "(none)" for v in item])
        for a, b in combinations(sorted(item, key=lambda v: v["name"]), 2):
            if a["name"] == b["name"]:
                continue
            lists = per_pair[a["name"], b["name"]]
            lists["decision"].append((accepts(a["status"]), accepts(b["status"])))
            if a["status"] == b["status"] == "rejected":
                lists["reason"].append((a["reason"] or "(none)", b["reason"] or "(none)"))
    pairs = [{"reviewers": names, "items": len(lists["decision"]),
              "agreed": sum(x == y for x, y in lists["decision"]),
              "kappa": cohen_kappa(lists["decision"]),
              "reason_items": len(lists["reason"]), "reason_kappa": cohen_kappa(lists["reason"])}
             for names, lists in sorted(per_pair.items())]
    return {"pairs": pairs, "items": len(units), "alpha": krippendorff_alpha(units),
            "reason_items": len(reason_units), "reason_alpha": krippendorff_alpha(reason_units)}


def reviewer_rows(store: Store) -> list[dict]:
    """Per reviewer: decisions, active hours, approve/reject/edit counts, by day (last 14 days with any)."""
    accounts = store.reviewers()
    out = []
    for account in accounts:
        name = account["name"]
        counts = dict(store.db.execute(
            "SELECT action, COUNT(*) FROM review_log WHERE reviewer = ? AND action IN (?,?,?,?) GROUP BY action",
            (name, *DECISIONS)).fetchall())
        votes = dict(store.db.execute(
            "SELECT v.status, COUNT(*) FROM review_votes v JOIN reviewers r ON r.id = v.reviewer_id"
            " WHERE r.name = ? AND r.removed_at IS NULL GROUP BY v.status", (name,)).fetchall())
        hours = store.db.execute(
            "SELECT COUNT(DISTINCT substr(created_at, 1, 13)) FROM review_log WHERE reviewer = ?",
            (name,)).fetchone()[0]
        days = store.db.execute(
            "SELECT day, n FROM (SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n FROM review_log"
            " WHERE reviewer = ? AND action IN (?,?,?,?) GROUP BY day ORDER BY day DESC LIMIT 14) ORDER BY day",
            (name, *DECISIONS)).fetchall()
        edits = store.db.execute(
            "SELECT e.text, t.text FROM edits e JOIN translations t ON t.id = e.translation_id"
            " WHERE e.reviewer = ? ORDER BY e.id DESC LIMIT ?", (name, EDIT_SAMPLE)).fetchall()
        edits += store.db.execute(       # the English of blind edit votes counts too
            "SELECT v.text, t.text FROM review_votes v JOIN reviewers r ON r.id = v.reviewer_id"
            " JOIN translations t ON t.id = v.translation_id WHERE r.name = ? AND r.removed_at IS NULL"
            " AND v.status = 'edited' LIMIT ?", (name, EDIT_SAMPLE)).fetchall()
        approved = counts.get("approve", 0) + counts.get("bulk-approve", 0) + votes.get("approved", 0)
        rejected = counts.get("reject", 0) + votes.get("rejected", 0)
        edited = counts.get("edit", 0) + votes.get("edited", 0)
        total = approved + rejected + edited
        changed = [1 - difflib.SequenceMatcher(None, old, new).ratio() for new, old in edits]
        out.append({"name": name, "role": account["role"], "claims": account["claims"],
                    "decisions": total, "hours": hours,
                    "per_hour": total / hours if hours else None,
                    "approved": approved, "rejected": rejected, "edited": edited,
                    "edit_size": sum(changed) / len(changed) if changed else None,
                    "chart": reviewer_chart(name, [(d[0], d[1]) for d in days], approved, rejected, edited)})
    return out


def with_others_and_lead(rows: list[dict], votes, settled) -> None:
    """Add each reviewer's agreement with the other voter of the same items and with the lead's final
    decision on the items a lead settled."""
    by_item: dict[int, list] = defaultdict(list)
    for v in votes:
        by_item[v["translation_id"]].append(v)
    others: dict[str, list[bool]] = defaultdict(list)
    for item in by_item.values():
        for v in item:
            for w in item:
                if w["name"] != v["name"]:
                    others[v["name"]].append(accepts(v["status"]) == accepts(w["status"]))
    lead: dict[str, list[bool]] = defaultdict(list)
    for s in settled:
        for v in by_item.get(s["translation_id"], []):
            lead[v["name"]].append(accepts(v["status"]) == accepts(s["new_status"]))
    for row in rows:
        o, ld = others.get(row["name"], []), lead.get(row["name"], [])
        row["with_others"] = (sum(o) / len(o), len(o)) if o else None
        row["with_lead"] = (sum(ld) / len(ld), len(ld)) if ld else None


def reviewer_chart(name: str, days: list[tuple[str, int]], approved: int, rejected: int, edited: int) -> Markup:
    """Decisions per day (bars) above a bar of the approve / edit / reject shares."""
    parts = []
    if days:
        top = max(n for _, n in days)
        width = (WIDTH - 2 * PAD) / len(days)
        for i, (day, n) in enumerate(days):
            h = (HEIGHT - 3 * PAD) * n / top
            x = PAD + i * width
            parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - 2 * PAD - h:.1f}" width="{max(width - 1, 1):.1f}" '
                         f'height="{h:.1f}" fill="#5f6670"><title>{escape(day)}: {n} decisions</title></rect>')
        parts.append(f'<text x="{PAD}" y="{HEIGHT - 2 * PAD + 10}" class="axis">{escape(days[0][0])}</text>'
                     f'<text x="{WIDTH - PAD}" y="{HEIGHT - 2 * PAD + 10}" text-anchor="end" class="axis">'
                     f'{escape(days[-1][0])}</text>')
    total = approved + rejected + edited
    x = PAD
    for status, n in (("approved", approved), ("edited", edited), ("rejected", rejected)):
        w = (WIDTH - 2 * PAD) * n / total if total else 0
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - PAD}" width="{w:.1f}" height="8" fill="{COLOURS[status]}">'
                     f'<title>{status}: {n}</title></rect>')
        x += w
    return Markup(f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="reviewer-chart" '
                  f'aria-label="decisions per day and shares: {escape(name)}">' + "".join(parts) + "</svg>")


def team_figures(store: Store) -> dict:
    votes = store.paired_votes()
    rows = reviewer_rows(store)
    with_others_and_lead(rows, votes, store.adjudicated())
    return {"agreement": agreement(votes), "reviewers": rows, "queue": len(store.adjudication_queue(10_000))}
