"""Published WGS-84 / GCJ-02 coordinate pairs, (lon, lat) in degrees, for the datum tests (Python
and the tracking page's JS). Each from a public test suite of an implementation of the transform."""

from __future__ import annotations

# WGS-84 -> GCJ-02: googollee/eviltransform, python/test.py (TESTS, also in php/EvilTransformTest.php
# and the other ports of that repository), there given as (wgsLat, wgsLng, gcjLat, gcjLng).
FORWARD: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "shanghai": ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    "shenzhen": ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    "beijing": ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
}

# GCJ-02 -> WGS-84: hujiulong/gcoord, test/unit/crs/GCJ02.spec.js ("GCJ02 to WGS84": [123, 45] ->
# [122.99395597, 44.99804071], asserted there to 5 decimals).
INVERSE: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "northeast": ((123.0, 45.0), (122.99395597, 44.99804071)),
}

# Outside the box where GCJ-02 applies there is no shift.
ABROAD: dict[str, tuple[float, float]] = {
    "vienna": (16.3738, 48.2082),
    "berlin": (13.4050, 52.5200),
    "tokyo": (139.6917, 35.6895),
}
