"""Run the benchmarks (`make bench`): `BENCH_SCALE=N` sets the contacts, `BENCH=name` picks one.

The bench uses its own database, never the developer's: `crm_bench` on the PostgreSQL server of
`DATABASE_URL` when it is set, else SQLite in var/bench/. It is seeded once per scale and reused
while it holds exactly that many contacts. The purge benchmark destroys its input, so it seeds and
copies its own databases instead (bench/purge.py). Figures are printed and appended to
bench/results.jsonl.
"""

import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCALE = 100_000
# Benchmark name -> module with `run(*, scale) -> list[Figure]`, imported once Django is set up.
BENCHMARKS = {
    "admin_contacts": "bench.admin_contacts",
    "subject_requests": "bench.subject_requests",
    "purge": "bench.purge",
    "campaign_audience": "bench.campaign_audience",
    "campaign_sending": "bench.campaign_sending",
    "imports": "bench.imports",
    "tracking": "bench.tracking",
    "contact_history": "bench.contact_history",
    "segment_count": "bench.segment_count",
    "webhooks": "bench.webhooks",
}
# Benchmarks that seed databases of their own and never read `crm_bench`.
OWN_DATABASE = frozenset({"purge", "campaign_audience", "campaign_sending", "imports", "tracking"})


def main() -> int:
    """Prepare the bench database, run the selected benchmarks and record their figures."""
    scale = int(os.environ.get("BENCH_SCALE", DEFAULT_SCALE))
    selected = os.environ.get("BENCH", "").strip()
    if selected and selected not in BENCHMARKS:
        print(f"Unknown benchmark {selected!r}; choose from {', '.join(BENCHMARKS)}.")
        return 2
    names = [selected] if selected else list(BENCHMARKS)
    _configure_environment()

    import django

    django.setup()

    from bench.database import database_label
    from bench.measuring import RESULTS_PATH, Figure, append_results

    db = database_label()
    # A purge at two million contacts must not re-seed the shared bench database at that scale.
    needs_shared = any(name not in OWN_DATABASE for name in names)
    seconds = _prepare_database(scale=scale) if needs_shared else None
    if seconds is not None:
        append_results(
            bench="seed", scale=scale, db=db, figures=[Figure("seed_seconds", seconds, "s")]
        )
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        figures = module.run(scale=scale)
        append_results(bench=name, scale=scale, db=db, figures=figures)
    print(f"\nFigures appended to {RESULTS_PATH.relative_to(ROOT)}.")
    return 0


def _configure_environment() -> None:
    """Point Django at the bench settings; give the settings throwaway secrets when absent."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    # The bench signs nothing that outlives it; fixed values also keep it from writing secrets
    # into the developer's var/ directory.
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("PRIVACY_HASH_KEY", "bench-only-privacy-hash-key-not-for-production")


def _prepare_database(*, scale: int) -> float | None:
    """Create and migrate the bench database; seed it unless it holds `scale` contacts already.

    Return the seconds seeding took, or None when the database was reused.
    """
    from bench.database import database_label, ensure_database, recreate_database
    from bench.seeding import seed
    from crm.models import Contact

    created = ensure_database()
    if not created and Contact.objects.count() == scale:
        print(f"Reusing the {database_label()} bench database: it holds {scale:,} contacts.")
        return None
    print(f"Seeding the {database_label()} bench database with {scale:,} contacts…", flush=True)
    start = time.perf_counter()
    if not created:
        recreate_database()
    seed(scale=scale)
    seconds = time.perf_counter() - start
    print(f"Seeded in {seconds:.1f} s.")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
