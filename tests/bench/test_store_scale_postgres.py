"""The store benchmark on PostgreSQL: a scratch schema, measured, then dropped."""

from __future__ import annotations

import psycopg
from click.testing import CliRunner

from harness.bench.store_scale import store_at_scale, with_search_path
from harness.cli.bench import bench
from tests.postgres_cluster import PostgresCluster


def test_the_search_path_is_set_in_the_url_replacing_any_other_options() -> None:
    assert (
        with_search_path("postgresql://u@h:5/db?options=-cfoo%3D1&sslmode=off", "s")
        == "postgresql://u@h:5/db?sslmode=off&options=-csearch_path%3Ds"
    )


def test_the_store_benchmark_runs_in_a_scratch_schema_it_drops(postgres: PostgresCluster) -> None:
    figures = store_at_scale(rows=300, batch=100, repeats=0, store=postgres.url)
    assert figures["backend"] == "postgresql"
    assert figures["insert"]["rows"] == 300
    assert figures["page"]["targets"] > 0
    with psycopg.connect(postgres.url) as conn:
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'harness_bench_%'"
        ).fetchall()
    assert left == []


def test_the_store_benchmark_gives_postgresqls_bytes_per_result(
    postgres: PostgresCluster,
) -> None:
    figures = store_at_scale(rows=300, batch=100, repeats=0, store=postgres.url)
    # A row of results alone is over 50 bytes there, with its indexes more.
    assert figures["insert"]["bytes_per_result"] > 50


def test_only_a_postgresql_url_is_taken() -> None:
    outcome = CliRunner().invoke(bench, ["--quick", "--only", "store", "--store", "x.db"])
    assert outcome.exit_code == 2
    assert "--store must be a PostgreSQL URL" in outcome.output
