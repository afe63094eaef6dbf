"""A progress bar for commands that run long jobs (sending, purges): text a terminal redraws."""

BAR_WIDTH = 30


def text_bar(done: int, total: int, *, width: int = BAR_WIDTH) -> str:
    """Return `[####......]  40%` for `done` of `total` (a full bar when there is nothing to do)."""
    percent = 100 if total <= 0 else min(100, done * 100 // total)
    filled = width * percent // 100
    return f"[{'#' * filled}{'.' * (width - filled)}] {percent:3d}%"
