"""The visitor's country: a trusted proxy's header, or the offline table of delegations."""

import bisect
import contextlib
import ipaddress
import json
import os
from array import array
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version as package_version
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import client_address


@dataclass(frozen=True)
class CountryTable:
    """Address ranges and their countries, sorted by first address, for a binary search."""

    starts: array | list
    ends: array | list
    # Two letters per range, in one string: a quarter of a million small strings would take MBs.
    codes: str

    def lookup(self, number: int) -> str:
        """Return the country of the address with this number, or "" when none holds it."""
        i = bisect.bisect_right(self.starts, number) - 1
        if i >= 0 and number <= self.ends[i]:
            return self.codes[2 * i : 2 * i + 2]
        return ""


@cache
def country_tables() -> tuple[CountryTable, CountryTable]:
    """Return the offline delegation tables (IPv4, IPv6), loaded once per process.

    The package's own data takes seconds and some 100 MB to load, so the first process on a
    machine writes a compact copy (a few MB) under VAR_DIR, which every later process reads in
    milliseconds.
    """
    path = Path(settings.VAR_DIR) / f"country-table-{package_version('ip-to-country')}.bin"
    try:
        return _read_tables(path)
    except (OSError, ValueError, EOFError, KeyError):
        # Missing, or damaged: rebuilt from the package below.
        pass
    tables = _package_tables()
    with contextlib.suppress(OSError):
        _write_tables(path, tables)
    return tables


def _package_tables() -> tuple[CountryTable, CountryTable]:
    from ip_to_country import IpToCountry

    source = IpToCountry()
    v4 = sorted((int(s), int(e), c) for s, e, c in source.ipv4_ranges if _is_code(c))
    v6 = sorted(
        (int(n.network_address), int(n.broadcast_address), c)
        for n, c in source.ipv6_ranges
        if _is_code(c)
    )
    return (
        CountryTable([r[0] for r in v4], [r[1] for r in v4], "".join(r[2] for r in v4)),
        CountryTable([r[0] for r in v6], [r[1] for r in v6], "".join(r[2] for r in v6)),
    )


def _is_code(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()


def _write_tables(path: Path, tables: tuple[CountryTable, CountryTable]) -> None:
    """Write the tables as a header line and raw arrays; atomically, for concurrent processes."""
    v4, v6 = tables
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with temporary.open("wb") as out:
        out.write(json.dumps({"v4": len(v4.starts), "v6": len(v6.starts)}).encode() + b"\n")
        array("I", v4.starts).tofile(out)
        array("I", v4.ends).tofile(out)
        out.write(v4.codes.encode("ascii"))
        for numbers in (v6.starts, v6.ends):
            array("Q", [n >> 64 for n in numbers]).tofile(out)
            array("Q", [n & (2**64 - 1) for n in numbers]).tofile(out)
        out.write(v6.codes.encode("ascii"))
    os.replace(temporary, path)


def _read_tables(path: Path) -> tuple[CountryTable, CountryTable]:
    with path.open("rb") as source:
        sizes = json.loads(source.readline())

        def numbers(kind: str, count: int) -> array:
            values = array(kind)
            values.fromfile(source, count)
            return values

        def codes(count: int) -> str:
            text = source.read(2 * count).decode("ascii")
            if len(text) != 2 * count:
                raise ValueError("The country table file is cut short.")
            return text

        v4 = CountryTable(numbers("I", sizes["v4"]), numbers("I", sizes["v4"]), codes(sizes["v4"]))
        wide = []
        for _ in range(2):
            high, low = numbers("Q", sizes["v6"]), numbers("Q", sizes["v6"])
            wide.append([(h << 64) | lo for h, lo in zip(high, low, strict=True)])
        v6 = CountryTable(wide[0], wide[1], codes(sizes["v6"]))
    return v4, v6


def country_of_address(address: str) -> str:
    """Return the ISO code of the country an address is delegated to; "" if private or unknown."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if not ip.is_global:
        return ""
    v4, v6 = country_tables()
    return (v4 if ip.version == 4 else v6).lookup(int(ip))


@cache
def _header_proxies(configured: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in configured)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    proxies = _header_proxies(tuple(settings.TRACKING_COUNTRY_HEADER_PROXIES))
    return any(peer in network for network in proxies)


def request_country(request: HttpRequest) -> str:
    """Return the visitor's country: the trusted proxy's header, else the offline table, else ""."""
    header = settings.TRACKING_COUNTRY_HEADER
    if header and _from_trusted_proxy(request):
        value = request.headers.get(header, "").strip().upper()
        # XX and T1 are what proxies send for unknown and Tor: no country.
        if len(value) == 2 and value.isalpha() and value not in {"XX", "T1"}:
            return value
        return ""
    if settings.TRACKING_COUNTRY_TABLE:
        return country_of_address(client_address(request))
    return ""
