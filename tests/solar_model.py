"""An independent model of FAO-56's solar geometry (chapter 3, equations 21-37,
https://www.fao.org/3/x0490e/x0490e07.htm), written from the paper in plain Python, to hold
snowflake_sql/modules/solar.sql to: the SQL is what runs; this is what it must agree with.

Conventions as in the SQL module: latitude and longitude in decimal degrees, north and east
positive; an INMET stamp ``t`` (UTC) covers the hour ending at ``t``.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

SOLAR_CONSTANT = 0.0820  # MJ m-2 min-1


def day_of_year_of_hour(stamp: datetime) -> int:
    return (stamp - timedelta(minutes=30)).timetuple().tm_yday


def distance_factor(j: int) -> float:  # eq 23
    return 1 + 0.033 * math.cos(2 * math.pi * j / 365)


def declination(j: int) -> float:  # eq 24
    return 0.409 * math.sin(2 * math.pi * j / 365 - 1.39)


def sunset_hour_angle(latitude: float, j: int) -> float:  # eq 25
    x = -math.tan(math.radians(latitude)) * math.tan(declination(j))
    return math.acos(max(-1.0, min(1.0, x)))


def seasonal_correction(j: int) -> float:  # eq 32-33
    b = 2 * math.pi * (j - 81) / 364
    return 0.1645 * math.sin(2 * b) - 0.1255 * math.cos(b) - 0.025 * math.sin(b)


def hour_angle(longitude: float, stamp: datetime) -> float:  # eq 31, UTC clock (Lz = 0)
    mid = stamp - timedelta(minutes=30)
    t = mid.hour + mid.minute / 60
    j = day_of_year_of_hour(stamp)
    return math.pi / 12 * ((t + longitude / 15 + seasonal_correction(j)) - 12)


def hour_extraterrestrial_kj(latitude: float, longitude: float, stamp: datetime) -> float:
    """eq 28-30, kJ m-2 for the hour ending at ``stamp``; 0 when the sun is down all hour."""
    j = day_of_year_of_hour(stamp)
    phi = math.radians(latitude)
    delta = declination(j)
    ws = sunset_hour_angle(latitude, j)
    w = hour_angle(longitude, stamp)
    w1 = min(ws, max(-ws, w - math.pi / 24))
    w2 = min(ws, max(-ws, w + math.pi / 24))
    mj = (
        12
        * 60
        / math.pi
        * SOLAR_CONSTANT
        * distance_factor(j)
        * (
            (w2 - w1) * math.sin(phi) * math.sin(delta)
            + math.cos(phi) * math.cos(delta) * (math.sin(w2) - math.sin(w1))
        )
    )
    return 1000 * mj


def hour_sun_elevation_sine(latitude: float, longitude: float, stamp: datetime) -> float:
    j = day_of_year_of_hour(stamp)
    phi = math.radians(latitude)
    delta = declination(j)
    return math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.cos(
        hour_angle(longitude, stamp)
    )


def day_extraterrestrial_mj(latitude: float, j: int) -> float:  # eq 21
    phi = math.radians(latitude)
    delta = declination(j)
    ws = sunset_hour_angle(latitude, j)
    return (
        24
        * 60
        / math.pi
        * SOLAR_CONSTANT
        * distance_factor(j)
        * (ws * math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.sin(ws))
    )


def daylight_hours(latitude: float, j: int) -> float:  # eq 34
    return 24 / math.pi * sunset_hour_angle(latitude, j)


def clear_sky(ra: float, altitude: float) -> float:  # eq 37
    return (0.75 + 2e-5 * altitude) * ra
