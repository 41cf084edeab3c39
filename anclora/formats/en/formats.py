# English dates that cannot be misread: day before month in words, 24-hour clock
# (Django's default "m/d/Y P" printed 12/03/2026 1:14 p.m. for 3 December).
DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
