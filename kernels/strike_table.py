"""Column layout of the strike tables the scatter kernel reads.

One row per strike, sorted by epoch. ``simulator`` fills these from the scenario; the
kernel reads them by these indices. Lengths in metres, angles as sine and cosine of the
azimuth (clockwise from grid north).
"""

# float64 table
AIM_X = 0  # aim point x (m)
AIM_Y = 1  # aim point y (m)
SIN_AZ = 2  # sine of the line of fire or flight heading
COS_AZ = 3  # cosine of the same
HALF_ALONG = 4  # pattern half-length along the azimuth (m)
HALF_ACROSS = 5  # pattern half-width across the azimuth (m)
INNER_FRACTION = 6  # ring pattern: inner radius as a fraction of the outer
TRUNCATE_SD = 7  # normal pattern: half-axes are this many standard deviations
AIM_SD = 8  # error common to all carriers of the strike, each axis (m)
CARRIER_SD_ALONG = 9  # per-carrier error along the azimuth: range or along-track (m)
CARRIER_SD_ACROSS = 10  # per-carrier error across: deflection or cross-track (m)
CARRIER_SPACING = 11  # spacing of carriers along the azimuth, e.g. a stick (m)
DUD_MEAN = 12  # mean dud probability per submunition
DUD_ALPHA = 13  # Beta alpha of the per-carrier dud probability; 0 means fixed at DUD_MEAN
DUD_BETA = 14  # Beta beta of the same
N_FLOAT = 15

# int64 table
CARRIERS = 0  # carriers in the strike
SUBMUNITIONS = 1  # submunitions per carrier
PATTERN = 2  # pattern code, see below
EPOCH = 3  # index of the strike's epoch (its first reporting step), non-decreasing
STREAM = 4  # the strike's random stream: its index in the scenario, whatever subset or order is run
HOME = 5  # 1 if this call counts the strike's submunitions and duds in ``totals`` (0 for a copy in another tile)
N_INT = 6

# pattern codes
UNIFORM_ELLIPSE = 0
NORMAL = 1
RING = 2
