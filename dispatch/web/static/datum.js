// WGS-84 <-> GCJ-02 for the tracking page: the same published transform as geo/datum.py (the tests
// hold the two equal). Phones report WGS-84; tiles served in mainland China (AMap/Gaode, Tencent)
// are drawn in GCJ-02, so a page on such tiles shifts what it draws by this offset (none outside
// China) and takes anything clicked on the map back with the inverse. Positions are [lon, lat].
"use strict";

const DispatchDatum = (() => {
  const A = 6378245.0; // Krasovsky 1940 semi-major axis (m)
  const EE = 0.00669342162296594323; // and its first eccentricity squared
  const INVERSE_TOLERANCE_DEG = 1e-9;
  const INVERSE_MAX_STEPS = 30;

  function outOfChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function offset(lon, lat) {
    const x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    const common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    // Metres of the offset to degrees on the Krasovsky ellipsoid at this latitude.
    const radLat = lat / 180.0 * PI;
    const magic = 1.0 - EE * Math.sin(radLat) ** 2;
    const sqrtMagic = Math.sqrt(magic);
    dlat = dlat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    dlon = dlon * 180.0 / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [dlon, dlat];
  }

  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    const [dlon, dlat] = offset(lon, lat);
    return [lon + dlon, lat + dlat];
  }

  // No closed inverse: fixed-point iteration, subtracting the residual of the last guess (the
  // offset changes slowly with position, so a few steps reach far below 1e-6 degrees).
  function gcj02ToWgs84(lon, lat) {
    let gLon = lon, gLat = lat;
    for (let i = 0; i < INVERSE_MAX_STEPS; i += 1) {
      const [iLon, iLat] = wgs84ToGcj02(gLon, gLat);
      const eLon = iLon - lon, eLat = iLat - lat;
      if (Math.abs(eLon) < INVERSE_TOLERANCE_DEG && Math.abs(eLat) < INVERSE_TOLERANCE_DEG) break;
      gLon -= eLon; gLat -= eLat;
    }
    return [gLon, gLat];
  }

  // The pair of functions for a tile layer's datum: toMap for what is drawn (stored WGS-84 in),
  // fromMap for what is clicked (WGS-84 out). Anything but "gcj02" is WGS-84: no shift.
  const SAME = (lon, lat) => [lon, lat];
  function forTiles(datum) {
    if (datum === "gcj02") return { toMap: wgs84ToGcj02, fromMap: gcj02ToWgs84 };
    return { toMap: SAME, fromMap: SAME };
  }

  return { outOfChina, wgs84ToGcj02, gcj02ToWgs84, forTiles };
})();
