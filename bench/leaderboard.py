"""Leaderboard queries at scale: 100,000 users and 1,000,000 ledger rows on Postgres.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything .venv/bin/python bench/leaderboard.py

Creates a scratch database `anclora_bench_leaderboard` on that server (dropped at the end,
also on failure), migrates it, loads the data with COPY, prints EXPLAIN (ANALYZE) of the
all-time / weekly / monthly leaderboard queries and times them (median of RUNS) against a
bare `SELECT id, lifetime_points FROM accounts_user ORDER BY lifetime_points DESC LIMIT 50`.
Target: the leaderboard SQL within 3x of the bare query. Printed, not asserted. About a minute.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

SCRATCH_DB = "anclora_bench_leaderboard"
USERS = int(os.environ.get("BENCH_USERS", 100_000))
LEDGER_ROWS = int(os.environ.get("BENCH_LEDGER_ROWS", 1_000_000))
ACHIEVEMENT_ROWS = USERS * 2
DAYS = 365
RUNS = 30
TARGET_RATIO = 3.0
BARE_SQL = "SELECT id, lifetime_points FROM accounts_user ORDER BY lifetime_points DESC LIMIT 50"


def _server_url(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def _admin(url: str, sql: str) -> None:
    import psycopg

    dsn = _server_url(url, "postgres").replace("postgres+psycopg://", "postgresql://")
    with psycopg.connect(dsn.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql)


def _timed(fn, runs: int = RUNS) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _load(connection, now: datetime) -> None:
    from gamification import rules

    rng = random.Random(42)
    raw = connection.connection  # the psycopg connection under Django's
    user_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(USERS)]
    joined = [now - timedelta(days=730) + timedelta(seconds=rng.randrange(0, 730 * 86400)) for _ in range(USERS)]
    earned = [0] * USERS
    spent = [0] * USERS

    actions = ["conversion_completed", "daily_login", "feedback", "share", "achievement_unlocked", "payment"]
    weights = [60, 25, 5, 4, 4, 2]
    points_for = {"conversion_completed": 10, "daily_login": 5, "feedback": 15, "share": 20,
                  "achievement_unlocked": 150, "payment": 60}
    t0 = time.perf_counter()
    # a skewed activity distribution: a few users do most of the converting
    weights_users = [1 / (i + 1) ** 0.8 for i in range(USERS)]
    picks = rng.choices(range(USERS), weights=weights_users, k=LEDGER_ROWS)
    kinds = rng.choices(actions, weights=weights, k=LEDGER_ROWS)
    rows = []
    for i in range(LEDGER_ROWS):
        u = picks[i]
        action = kinds[i]
        points = points_for[action]
        created = now - timedelta(seconds=rng.randrange(0, DAYS * 86400))
        if rng.random() < 0.01 and earned[u] - spent[u] >= 100:
            action, points = "redemption", -100
            spent[u] += 100
        else:
            earned[u] += points
        rows.append((user_ids[u], action, points, f"k{i}", "", "", created))
    print(f"  generated in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    with raw.cursor() as cur, cur.copy(
        "COPY accounts_user (id, password, is_superuser, email, first_name, last_name, total_points, "
        "lifetime_points, level, current_streak, longest_streak, conversion_credits, language, time_zone, "
        "is_active, is_staff, date_joined) FROM STDIN"
    ) as copy:
        for i in range(USERS):
            level = rules.level_for_points(earned[i]).level
            copy.write_row((user_ids[i], "!", False, f"u{i}@bench.invalid", f"U{i}", "Bench",
                            earned[i] - spent[i], earned[i], level, rng.randrange(0, 40), 40, 0, "es",
                            "Europe/Madrid", rng.random() > 0.01, False, joined[i]))
    print(f"  users: {USERS:,} rows in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    with raw.cursor() as cur, cur.copy(
        "COPY gamification_userreward (user_id, action, points, idempotency_key, subject_type, subject_id, "
        "created_at) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    print(f"  ledger: {LEDGER_ROWS:,} rows in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    slugs = [a.id for a in rules.ACHIEVEMENTS]
    with raw.cursor() as cur, cur.copy(
        "COPY gamification_userachievement (user_id, achievement_id, unlocked_at) FROM STDIN"
    ) as copy:
        seen = set()
        for u in rng.choices(range(USERS), weights=weights_users, k=ACHIEVEMENT_ROWS):
            pair = (u, rng.choice(slugs))
            if pair not in seen:
                seen.add(pair)
                copy.write_row((user_ids[pair[0]], pair[1], now))
    print(f"  user achievements: {len(seen):,} rows in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with raw.cursor() as cur:
        # the weekly / monthly roll-up that rewards_award keeps in step with the ledger
        for period, trunc in (("week", "week"), ("month", "month")):
            cur.execute(f"""
                INSERT INTO gamification_periodpoints (user_id, period, period_start, points, user_joined)
                SELECT r.user_id, '{period}', date_trunc('{trunc}', r.created_at AT TIME ZONE 'UTC')::date,
                       SUM(r.points), u.date_joined
                FROM gamification_userreward r JOIN accounts_user u ON u.id = r.user_id
                WHERE r.points > 0 GROUP BY 1, 3, 5""")
        cur.execute("SELECT count(*) FROM gamification_periodpoints")
        rollup = cur.fetchone()[0]
    print(f"  period roll-up: {rollup:,} rows in {time.perf_counter() - t0:.1f} s")
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE")


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print("bench/leaderboard.py needs DATABASE_URL=postgres://user@host:port/db (a scratch database "
              f"{SCRATCH_DB!r} is created on that server and dropped at the end)")
        return 2
    _admin(url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}"')
    _admin(url, f'CREATE DATABASE "{SCRATCH_DB}"')
    os.environ["DATABASE_URL"] = _server_url(url, SCRATCH_DB)
    os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="anclora-bench-lb-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "anclora.settings.base"
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from gamification import selectors

        print(f"leaderboard bench on {SCRATCH_DB}: {USERS:,} users, {LEDGER_ROWS:,} ledger rows")
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrate: {time.perf_counter() - t0:.1f} s")
        now = datetime.now(UTC)
        connection.ensure_connection()
        _load(connection, now)

        def bare():
            with connection.cursor() as cur:
                cur.execute(BARE_SQL)
                cur.fetchall()

        queries = {
            "all_time": selectors.leaderboard_all_time_queryset(limit=50),
            "weekly": selectors.leaderboard_period_queryset(
                period="weekly", start=selectors.period_start("weekly", now), limit=50),
            "monthly": selectors.leaderboard_period_queryset(
                period="monthly", start=selectors.period_start("monthly", now), limit=50),
        }
        for name, qs in queries.items():
            print(f"\n--- EXPLAIN {name} ---\n{qs.query}\n")
            print(qs.explain(analyze=True, buffers=True))
        print("\n--- EXPLAIN bare ---")
        with connection.cursor() as cur:
            cur.execute("EXPLAIN ANALYZE " + BARE_SQL)
            print("\n".join(row[0] for row in cur.fetchall()))

        def raw_sql(qs):
            sql, params = qs.query.sql_with_params()

            def run():
                with connection.cursor() as cur:
                    cur.execute(sql, params)
                    cur.fetchall()

            return run

        bare_ms = _timed(bare)
        print(f"\nmedian of {RUNS} runs, milliseconds; target: leaderboard SQL <= {TARGET_RATIO:.0f}x bare")
        print(f"  {'bare SELECT ... ORDER BY lifetime_points DESC LIMIT 50':<58}{bare_ms:8.3f}")
        for name, qs in queries.items():
            ms = _timed(raw_sql(qs))
            verdict = "ok" if ms <= TARGET_RATIO * bare_ms else "OVER TARGET"
            print(f"  {name + ' leaderboard SQL':<58}{ms:8.3f}  {ms / bare_ms:5.1f}x  {verdict}")
        for name, qs in queries.items():
            ms = _timed(lambda qs=qs: list(qs.all()))
            print(f"  {name + ' through the ORM (model instances)':<58}{ms:8.3f}  {ms / bare_ms:5.1f}x")
        for period in selectors.PERIODS:
            ms = _timed(lambda period=period: selectors.leaderboard(period=period, limit=50, now=now))
            print(f"  {period + ' whole selector (+ achievements_count, names)':<58}{ms:8.3f}  {ms / bare_ms:5.1f}x")
        connection.close()
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001
            pass
        _admin(url, f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        print(f"\ndropped {SCRATCH_DB}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
