"""Who meets whom this round. Pure: no database, no Slack, deterministic for a seed.

How an introduction comes about, so anyone can explain one:

- Two people can be matched unless either would rather not meet the other (both ways).
- Every possible pair has a *tier*, and lower tiers are always used up first:
  0 - fresh, and any wish to meet someone from another organisation is honoured;
  1 - fresh, but the same organisation although one of them asked for another;
  2, 3 - the same, for two people who met within the last REPEAT_WINDOW rounds.
- Within a tier, people who sat out last round go first; then the best theme fit: a theme
  both want to think about scores 3, a theme one wants and the other could offer a view on
  scores 2 (each way), crossing organisations when someone asked for it adds 1, and having
  met before subtracts a penalty that fades with how many rounds ago it was.
- Greedy on each person's best candidates (found with small matrix products, so themes
  act as buckets without any O(n^2) Python loop), repeated on whoever is left until no
  two people left can be matched at that tier. In a big round (more than EXACT_UP_TO
  free) each person's candidates come from a seeded sample of SAMPLE others, keeping the
  work linear; once few are left every pair is compared again. After tier 0 a short augmenting step swaps
  two leftovers into an existing pair (u-x and v-y instead of x-y) where that avoids a
  repeat or a same-organisation match.
- Odd numbers: anyone still left joins the best-fitting pair they are compatible with, as
  a trio, so nobody sits out because of arithmetic. Someone who still cannot be placed is
  "unmatched" with a kind, generic reason that never hints at anyone's exclusions, and is
  first in line next round.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

REPEAT_WINDOW = 6  # rounds (about three months of fortnightly rounds)
RECENCY_PENALTY = 4.0  # subtracted as RECENCY_PENALTY / rounds_ago for any earlier meeting
SHARED_WEIGHT = 3.0
COMPLEMENTARY_WEIGHT = 2.0
CROSS_ORG_BONUS = 1.0
TOP_K = 16  # best candidates kept per person in each pass
BLOCK = 512  # rows per matrix block: bounds memory at ~BLOCK x n
# Above this many people still free, each block of rows looks for partners among a seeded
# sample of SAMPLE of them (plus everyone who sat out last round), so a pass costs n x SAMPLE
# rather than n^2; at or below it every pair is compared, exactly as for a small round.
EXACT_UP_TO = 4096
SAMPLE = 1024
AUGMENT_LIMIT = 200  # leftovers considered by the augmenting step
MAX_REASONS = 3

ALONE = "the only person available this round; first in line next time"
NO_MATCH = "no suitable match this round; first in line next time"

History = Mapping[frozenset, int]  # {user_a, user_b} -> rounds ago they last met (1 = last)


@dataclass(frozen=True)
class Candidate:
    """One eligible leader, as matching sees them: only what they chose to share."""

    user_id: str
    organisation: str = ""
    wants: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()
    prefer_other_org: bool = True
    excludes: frozenset[str] = frozenset()
    sat_out_last: bool = False


@dataclass(frozen=True)
class Group:
    members: tuple[str, ...]
    reasons: tuple[str, ...]  # theme slugs


@dataclass(frozen=True)
class Unmatched:
    user: str
    why: str


@dataclass
class MatchResult:
    groups: list[Group] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    def as_json(self) -> dict:
        """The stable `tandem peers match --dry-run --json` shape."""
        return {
            "groups": [
                {"members": list(g.members), "reasons": list(g.reasons)} for g in self.groups
            ],
            "unmatched": [{"user": u.user, "why": u.why} for u in self.unmatched],
        }


def common_themes(a: Candidate, b: Candidate) -> set[str]:
    """Themes two people could think about together: shared wants, or one offers the other's want."""
    return (a.wants & b.wants) | (a.wants & b.offers) | (b.wants & a.offers)


def reasons_for(members: Sequence[Candidate], limit: int = MAX_REASONS) -> tuple[str, ...]:
    """Why these people: themes they both want first, then complementary ones."""
    shared: set[str] = set()
    complementary: set[str] = set()
    for a, b in combinations(members, 2):
        shared |= a.wants & b.wants
        complementary |= (a.wants & b.offers) | (b.wants & a.offers)
    return tuple((sorted(shared) + sorted(complementary - shared))[:limit])


def reason_kinds(members: Sequence[Candidate], reasons: Iterable[str]) -> list[tuple[str, str]]:
    """(slug, "shared" | "complementary") for phrasing an introduction."""
    kinds = []
    for slug in reasons:
        wanting = sum(1 for m in members if slug in m.wants)
        kinds.append((slug, "shared" if wanting >= 2 else "complementary"))
    return kinds


def match(
    candidates: Iterable[Candidate], history: History | None = None, seed: int = 0
) -> MatchResult:
    """Groups of two (occasionally three) with reasons, and anyone left with why."""
    people = sorted(candidates, key=lambda c: c.user_id)
    ids = [p.user_id for p in people]
    if len(set(ids)) != len(ids):
        raise ValueError("each candidate must appear once")
    if not people:
        return MatchResult()
    if len(people) == 1:
        return MatchResult([], [Unmatched(people[0].user_id, ALONE)])
    space = _Space(people, history or {}, abs(int(seed)))
    space.run()
    return space.result()


class _Space:
    """The round's people as arrays; groups are built in place."""

    def __init__(self, people: list[Candidate], history: History, seed: int) -> None:
        self.people = people
        n = self.n = len(people)
        index = {p.user_id: i for i, p in enumerate(people)}
        themes = sorted({t for p in people for t in p.wants | p.offers}) or ["-"]
        column = {t: k for k, t in enumerate(themes)}
        self.wants = np.zeros((n, len(themes)), np.float32)
        self.offers = np.zeros((n, len(themes)), np.float32)
        orgs: dict[str, int] = {}
        self.org = np.zeros(n, np.int64)
        for i, person in enumerate(people):
            for t in person.wants:
                self.wants[i, column[t]] = 1
            for t in person.offers:
                self.offers[i, column[t]] = 1
            name = person.organisation.strip().casefold()
            # An unknown organisation is never "the same" as anyone else's.
            self.org[i] = orgs.setdefault(name, len(orgs)) if name else -(i + 1)
        # score(r, c) = 3 wants.wants + 2 wants.offers + 2 offers.wants, as one product.
        self.features = np.hstack([self.wants, self.offers])
        self.partner_weights = np.hstack(
            [
                SHARED_WEIGHT * self.wants + COMPLEMENTARY_WEIGHT * self.offers,
                COMPLEMENTARY_WEIGHT * self.wants,
            ]
        ).astype(np.float32)
        self.prefers = np.array([p.prefer_other_org for p in people], bool)
        self.sat_out = np.array([p.sat_out_last for p in people], np.float64)
        self.rank = np.random.default_rng(seed).permutation(n).astype(np.int64)
        self.tie = np.random.default_rng([seed, 1]).random(n) * 1e-3
        self.blocked: list[set[int]] = [set() for _ in range(n)]
        for i, person in enumerate(people):
            for other in person.excludes:
                j = index.get(other)
                if j is not None and j != i:
                    self.blocked[i].add(j)
                    self.blocked[j].add(i)
        self.met: list[dict[int, int]] = [{} for _ in range(n)]
        for pair, ago in history.items():
            members = [index.get(u) for u in pair]
            if len(members) != 2 or None in members or int(ago) < 1:
                continue
            i, j = members
            if i == j:
                continue
            ago = min(int(ago), self.met[i].get(j, int(ago)))
            self.met[i][j] = self.met[j][i] = ago
        # Key scales: tiers dominate priority, priority dominates fit, fit dominates the tie noise.
        span = len(themes) * (SHARED_WEIGHT + 2 * COMPLEMENTARY_WEIGHT) + CROSS_ORG_BONUS
        self.priority_unit = span + RECENCY_PENALTY + 1.0
        self.tier_unit = 3 * self.priority_unit
        self.seed = seed
        self.passes = 0
        self.group_of = np.full(n, -1, np.int64)
        self.groups: list[list[int]] = []

    # --- scoring -------------------------------------------------------------------

    def _block(self, rows: np.ndarray, cols: np.ndarray):
        """(score, tier, valid) for every row x column pair."""
        score = SHARED_WEIGHT * (self.wants[rows] @ self.wants[cols].T) + COMPLEMENTARY_WEIGHT * (
            self.wants[rows] @ self.offers[cols].T + self.offers[rows] @ self.wants[cols].T
        )
        score = score.astype(np.float64)
        cross = self.org[rows][:, None] != self.org[cols][None, :]
        asked = self.prefers[rows][:, None] | self.prefers[cols][None, :]
        score += CROSS_ORG_BONUS * (cross & asked)
        tier = (~cross & asked).astype(np.int64)
        valid = rows[:, None] != cols[None, :]
        position = np.full(self.n, -1, np.int64)
        position[cols] = np.arange(len(cols))
        for r, i in enumerate(rows.tolist()):
            for j in self.blocked[i]:
                c = position[j]
                if c >= 0:
                    valid[r, c] = False
            for j, ago in self.met[i].items():
                c = position[j]
                if c >= 0:
                    score[r, c] -= RECENCY_PENALTY / ago
                    if ago <= REPEAT_WINDOW:
                        tier[r, c] += 2
        return score, tier, valid

    def _candidate_keys(self, rows: np.ndarray, cols: np.ndarray, limit: int) -> np.ndarray:
        """The same scoring as _block, fused into one sort key (-inf: not usable at `limit`).

        Written for the big first pass: float32, in place, sparse corrections last.
        """
        key = self.features[rows] @ self.partner_weights[cols].T
        asked = self.prefers[rows][:, None] | self.prefers[cols][None, :]
        unwanted_same = (self.org[rows][:, None] == self.org[cols][None, :]) & asked
        key += np.float32(CROSS_ORG_BONUS) * asked
        if limit == 0:
            key[unwanted_same] = -np.inf
        else:
            key -= np.float32(CROSS_ORG_BONUS + self.tier_unit) * unwanted_same
        # Sat-out priority and a tiny seeded tie-breaker, so equal fits don't favour list order.
        key += (self.priority_unit * self.sat_out[cols] + self.tie[cols]).astype(np.float32)
        if self.sat_out[rows].any():
            key += (self.priority_unit * self.sat_out[rows]).astype(np.float32)[:, None]
        position = np.full(self.n, -1, np.int64)
        position[cols] = np.arange(len(cols))
        for r, i in enumerate(rows.tolist()):
            if position[i] >= 0:
                key[r, position[i]] = -np.inf
            for j in self.blocked[i]:
                if position[j] >= 0:
                    key[r, position[j]] = -np.inf
            for j, ago in self.met[i].items():
                c = position[j]
                if c < 0:
                    continue
                key[r, c] -= RECENCY_PENALTY / ago
                if ago <= REPEAT_WINDOW:
                    if 2 + int(unwanted_same[r, c]) > limit:
                        key[r, c] = -np.inf
                    else:
                        key[r, c] -= 2 * self.tier_unit
        return key

    def _candidate_edges(self, free: np.ndarray, limit: int):
        """Each free person's best TOP_K usable partners among the free, best first."""
        found_a, found_b, found_key = [], [], []
        k = min(TOP_K, len(free))
        self.passes += 1
        for start in range(0, len(free), BLOCK):
            rows = free[start : start + BLOCK]
            cols = self._columns(free, rows, start)
            key = self._candidate_keys(rows, cols, limit)
            if k < key.shape[1]:
                top = np.argpartition(-key, k - 1, axis=1)[:, :k]
            else:
                top = np.broadcast_to(np.arange(key.shape[1]), key.shape)
            r = np.repeat(np.arange(len(rows)), top.shape[1])
            c = top.reshape(-1)
            values = key[r, c]
            keep = np.isfinite(values)
            found_a.append(rows[r[keep]])
            found_b.append(cols[c[keep]])
            found_key.append(values[keep].astype(np.float64))
        a, b, keys = np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_key)
        low, high = np.minimum(a, b), np.maximum(a, b)
        # The tie-breaker is per column, so the two directions of a pair may differ a hair:
        # keep the better, then order best first, ties by the seeded ranks.
        order = np.lexsort((-keys, low * self.n + high))
        low, high, keys = low[order], high[order], keys[order]
        _, first = np.unique(low * self.n + high, return_index=True)
        low, high, keys = low[first], high[first], keys[first]
        ranks_low, ranks_high = self.rank[low], self.rank[high]
        order = np.lexsort(
            (np.maximum(ranks_low, ranks_high), np.minimum(ranks_low, ranks_high), -keys)
        )
        return low[order], high[order]

    def _columns(self, free: np.ndarray, rows: np.ndarray, start: int) -> np.ndarray:
        """Whom a block of rows is compared with: everyone free in a small round; in a big
        one a seeded sample, with the block itself and whoever sat out last round."""
        if len(free) <= EXACT_UP_TO:
            return free
        rng = np.random.default_rng([self.seed, 2, self.passes, start])
        sample = rng.choice(free, SAMPLE, replace=False)
        waiting = free[self.sat_out[free] > 0]
        return np.unique(np.concatenate([sample, rows, waiting]))

    # --- building groups -----------------------------------------------------------

    def _form(self, members: list[int]) -> None:
        self.groups.append(members)
        for i in members:
            self.group_of[i] = len(self.groups) - 1

    def _free(self) -> np.ndarray:
        return np.flatnonzero(self.group_of < 0)

    def _queue(self, free: np.ndarray) -> list[int]:
        """Leftovers in turn: those who sat out last time first, then the seeded order."""
        return sorted(free.tolist(), key=lambda i: (-self.sat_out[i], self.rank[i]))

    def run(self) -> None:
        for limit in range(4):
            while True:
                free = self._free()
                if len(free) < 2:
                    break
                a, b = self._candidate_edges(free, limit)
                if len(a) == 0:
                    break
                for i, j in zip(a.tolist(), b.tolist(), strict=True):
                    if self.group_of[i] < 0 and self.group_of[j] < 0:
                        self._form([i, j])
            if limit == 0:
                self._augment()
        self._welcome_thirds()

    def _augment(self) -> None:
        """Two leftovers u, v and a pair x-y become u-x and v-y, all at tier 0."""
        queue = self._queue(self._free())[:AUGMENT_LIMIT]
        if len(queue) < 2:
            return
        rows = np.array(queue)
        everyone = np.arange(self.n)
        score, tier, valid = self._block(rows, everyone)
        usable = valid & (tier == 0)
        for p, q in combinations(range(len(queue)), 2):
            u, v = queue[p], queue[q]
            if self.group_of[u] >= 0 or self.group_of[v] >= 0:
                continue
            pairs = [g for g, members in enumerate(self.groups) if len(members) == 2]
            if not pairs:
                return
            first = np.array([self.groups[g][0] for g in pairs])
            second = np.array([self.groups[g][1] for g in pairs])
            straight = np.where(
                usable[p][first] & usable[q][second],
                score[p][first] + score[q][second],
                -np.inf,
            )
            crossed = np.where(
                usable[p][second] & usable[q][first],
                score[p][second] + score[q][first],
                -np.inf,
            )
            best = int(np.argmax(np.maximum(straight, crossed)))
            if not np.isfinite(max(straight[best], crossed[best])):
                continue
            x, y = (
                (first[best], second[best])
                if straight[best] >= crossed[best]
                else (second[best], first[best])
            )
            g = pairs[best]
            self.groups[g] = [u, int(x)]
            self.group_of[u] = g
            self._form([v, int(y)])

    def _welcome_thirds(self) -> None:
        """Anyone left joins the best pair they are compatible with both members of."""
        everyone = np.arange(self.n)
        for person in self._queue(self._free()):
            pairs = [g for g, members in enumerate(self.groups) if len(members) == 2]
            if not pairs:
                return
            score, tier, valid = self._block(np.array([person]), everyone)
            first = np.array([self.groups[g][0] for g in pairs])
            second = np.array([self.groups[g][1] for g in pairs])
            fits = valid[0][first] & valid[0][second]
            if not fits.any():
                continue
            key = (
                -self.tier_unit * np.maximum(tier[0][first], tier[0][second])
                + score[0][first]
                + score[0][second]
            )
            best = int(np.argmax(np.where(fits, key, -np.inf)))
            g = pairs[best]
            self.groups[g].append(person)
            self.group_of[person] = g

    def result(self) -> MatchResult:
        groups = []
        for members in self.groups:
            people = [self.people[i] for i in sorted(members)]
            groups.append(Group(tuple(p.user_id for p in people), reasons_for(people)))
        groups.sort(key=lambda g: g.members)
        unmatched = [Unmatched(self.people[i].user_id, NO_MATCH) for i in self._free().tolist()]
        return MatchResult(groups, unmatched)
