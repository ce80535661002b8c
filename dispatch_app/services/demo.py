"""A demo company: a Chicago trades shop with two weeks of history and a busy day today.

The day is built for one moment, the company's "now": visits that ended before it are
completed (with their status history and time sheets), the current ones are on site or
on the way, a couple are late for a reason the office wrote down, and the queue holds
the calls taken so far today. Opened at 07:00, 16:20, 21:00 or on a Sunday, it looks
like that hour of a real shop. Everything is drawn from ``random.Random(seed)`` and the
moment, so the same seed and moment always give the same rows.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import functools
import math
import random
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes
from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from dispatch_app.db.models import (
    Agreement,
    AppSetting,
    AuditEntry,
    Base,
    Customer,
    CustomerPhone,
    Equipment,
    JobType,
    JobTypeQuestion,
    JobTypeSkill,
    Lead,
    LineItem,
    MaintenancePlan,
    Note,
    Part,
    ServiceSite,
    Skill,
    StatusChange,
    Technician,
    TechnicianShift,
    TechnicianSkill,
    TimeEntry,
    Visit,
    VisitTechnician,
    WorkOrder,
)
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.dispatch_rules import skills_suffice, snap_up
from dispatch_app.domain.geo import DriveEstimate, distance_km
from dispatch_app.domain.messages import Consent
from dispatch_app.domain.vocabulary import (
    TRADE_COLOURS,
    LineItemKind,
    Priority,
    QuestionKind,
    Trade,
    VisitStatus,
    WorkOrderSource,
    WorkOrderStatus,
)
from dispatch_app.errors import UserFacingError
from dispatch_app.services.demo_billing import BilledOrder, write_books, write_company_settings

__all__ = [
    "DemoError",
    "DemoMark",
    "DemoState",
    "DemoSummary",
    "demo_state",
    "rebuild_demo",
    "seed_demo",
]


class DemoError(UserFacingError):
    """The demo company cannot be loaded into this database."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How much of each thing the demo company got."""

    technicians: int
    customers: int
    sites: int
    equipment: int
    work_orders: int
    visits: int
    unassigned_today: int
    emergencies_today: int


# Chicago's street-number origin: State St and Madison St.
DOWNTOWN = (41.8819, -87.6278)
SERVICE_RADIUS_KM = 30.0
HISTORY_DAYS = 14
# app_settings key marking a database as the demo: which seed, built for which moment.
DEMO_SETTING = "demo_company"
SNAP = dt.timedelta(minutes=15)
MAX_DRIVE = dt.timedelta(minutes=35)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

# Office staff logins, as the status history and notes name them.
DISPATCHER = "dkowalski"
CALL_TAKERS = ("lortega", "tbrooks")
BILLING = "jpark"
WEB_BOOKING = "web-booking"
ANSWERING_SERVICE = "answering-service"


# --- Catalogue: skills and job types ------------------------------------------------

SKILLS: tuple[tuple[Trade, str, str], ...] = (
    (Trade.HVAC, "epa-608", "EPA 608 refrigerant certification"),
    (Trade.HVAC, "furnace", "Gas furnaces"),
    (Trade.HVAC, "heat-pump", "Heat pumps"),
    (Trade.HVAC, "boiler", "Boilers and hydronic heat"),
    (Trade.HVAC, "ductwork", "Ductwork"),
    (Trade.HVAC, "refrigeration", "Commercial refrigeration"),
    (Trade.HVAC, "mini-split", "Ductless mini-splits"),
    (Trade.HVAC, "controls", "Thermostats and controls"),
    (Trade.PLUMBING, "drain-cleaning", "Drain cleaning"),
    (Trade.PLUMBING, "water-heater", "Water heaters"),
    (Trade.PLUMBING, "backflow", "Backflow testing (certified)"),
    (Trade.PLUMBING, "sewer-camera", "Sewer camera inspection"),
    (Trade.PLUMBING, "gas-line", "Gas piping"),
    (Trade.PLUMBING, "repipe", "Repiping"),
    (Trade.PLUMBING, "sump-pump", "Sump and ejector pumps"),
    (Trade.PLUMBING, "fixtures", "Fixtures and faucets"),
    (Trade.ELECTRICAL, "panel-upgrade", "Panel upgrades"),
    (Trade.ELECTRICAL, "ev-charger", "EV charger installation"),
    (Trade.ELECTRICAL, "generator", "Standby generators"),
    (Trade.ELECTRICAL, "lighting", "Lighting"),
    (Trade.ELECTRICAL, "troubleshooting", "Electrical troubleshooting"),
    (Trade.ELECTRICAL, "service-change", "Service changes and utility coordination"),
    (Trade.ROOFING, "shingle", "Shingle roofing"),
    (Trade.ROOFING, "flat-roof", "Flat roofs (mod-bit, EPDM)"),
    (Trade.ROOFING, "gutters", "Gutters and downspouts"),
    (Trade.ROOFING, "leak-repair", "Roof leak repair"),
    (Trade.ROOFING, "inspection", "Roof inspection and insurance photos"),
    (Trade.ROOFING, "skylight", "Skylights"),
)


class JobSpec(NamedTuple):
    trade: Trade
    name: str
    minutes: int
    price: str
    skills: tuple[tuple[str, int], ...]  # (skill code, minimum level)
    equipment: tuple[str, ...]  # equipment kinds the job is about, most likely first
    heating_weight: float  # how often it is booked October to April
    cooling_weight: float  # … and May to September
    descriptions: tuple[str, ...]


JOB_TYPES: tuple[JobSpec, ...] = (
    JobSpec(
        Trade.HVAC,
        "No heat call",
        90,
        "129.00",
        (("furnace", 2),),
        ("furnace",),
        5,
        0.3,
        (
            "No heat since last night, thermostat set to 70 but the house is at 58",
            "Furnace runs but blows cold air; igniter clicks, no flame",
            "Heat comes on, runs a minute or two, then shuts off",
            "No heat upstairs, downstairs is fine",
            "Loud bang from the furnace on startup, then no heat",
            "Thermostat screen is blank and the furnace won't start",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Furnace tune-up",
        60,
        "119.00",
        (("furnace", 1),),
        ("furnace",),
        3,
        0.2,
        (
            "Annual furnace tune-up; customer on the maintenance plan",
            "Pre-season furnace check, replace filter (16x25x1)",
            "Tune-up; dusty smell when the heat first comes on",
            "Safety check and tune-up for new homeowners, furnace age unknown",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "AC repair",
        120,
        "149.00",
        (("epa-608", 1),),
        ("ac condenser",),
        0.3,
        5,
        (
            "AC running but not cooling, 82°F upstairs",
            "Outdoor unit hums, fan not spinning",
            "Ice on the refrigerant line at the indoor coil",
            "Water leaking around the furnace when the AC runs",
            "AC trips its breaker after about ten minutes",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "AC tune-up",
        60,
        "119.00",
        (("epa-608", 1),),
        ("ac condenser",),
        0.1,
        3,
        (
            "Spring AC tune-up, clean the condenser coil",
            "AC check before summer; was low on refrigerant last year",
            "Maintenance plan visit: AC tune-up and filter change",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Heat pump service",
        90,
        "159.00",
        (("heat-pump", 2), ("epa-608", 1)),
        ("ac condenser",),
        1,
        1,
        (
            "Heat pump stuck in defrost, outdoor unit steaming",
            "Heat pump runs constantly and the aux heat is always on",
            "Grinding noise from the outdoor unit",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Boiler repair",
        120,
        "189.00",
        (("boiler", 3),),
        ("boiler",),
        2,
        0.2,
        (
            "Boiler pressure reads 30 psi and the relief valve is dripping",
            "Radiators in the back bedrooms stay cold",
            "Boiler locked out with an error code on the display",
            "Pipes bang when the heat comes on",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Thermostat install",
        60,
        "225.00",
        (("controls", 1),),
        ("furnace",),
        1,
        1,
        (
            "Install customer-supplied Ecobee; no C-wire at the thermostat",
            "Replace old round Honeywell with a programmable thermostat",
            "Nest says 'no power to Rh wire' after the customer installed it",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Mini-split install",
        360,
        "3850.00",
        (("mini-split", 3), ("epa-608", 1)),
        (),
        0.2,
        0.6,
        (
            "Two-zone ductless mini-split for the attic bedrooms, quote approved",
            "12k BTU mini-split for the sunroom",
            "Single-zone mini-split in the garage workshop",
        ),
    ),
    JobSpec(
        Trade.HVAC,
        "Furnace replacement",
        480,
        "5200.00",
        (("furnace", 3), ("ductwork", 2)),
        ("furnace",),
        0.3,
        0.1,
        (
            "Replace 24-year-old furnace with a 96% unit, quote approved",
            "Cracked heat exchanger found last visit; replace the furnace",
            "Furnace and coil replacement, customer approved financing",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Clogged drain",
        60,
        "189.00",
        (("drain-cleaning", 1),),
        (),
        5,
        5,
        (
            "Upstairs bathroom sink drains slowly, tried Drano",
            "Kitchen sink backed up, garbage disposal just hums",
            "Basement floor drain backs up when the washer drains",
            "Tub drain clogged, water stands for an hour",
            "Toilets gurgle when the washer runs; main line backing up?",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Water heater replacement",
        240,
        "1895.00",
        (("water-heater", 2),),
        ("water heater",),
        1.5,
        1.2,
        (
            "Water heater leaking from the bottom; replace with a 50-gallon gas",
            "Family of five runs out of hot water; replace 40 gal with 50 gal",
            "Tank rusted at the seams, quote approved for a Bradford White 50 gal",
            "Convert to tankless, customer approved the quote",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Water heater repair",
        90,
        "165.00",
        (("water-heater", 1),),
        ("water heater",),
        2,
        1.5,
        (
            "No hot water, pilot won't stay lit",
            "Water heater makes popping and rumbling noises",
            "Hot water runs out after five minutes",
            "Relief valve dripping onto the basement floor",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Sewer camera inspection",
        90,
        "295.00",
        (("sewer-camera", 2),),
        (),
        1,
        1,
        (
            "Recurring main line clogs; camera to check for roots",
            "Pre-purchase sewer scope for the buyer, house built 1924",
            "Sewage smell in the basement; camera the line",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Sump pump replacement",
        120,
        "695.00",
        (("sump-pump", 1),),
        ("sump pump",),
        0.6,
        1.5,
        (
            "Sump pump runs nonstop and won't shut off",
            "Sump pump failed in the last storm, 2 inches of water in the basement",
            "Add a battery backup to the existing sump pump",
            "Float switch sticks, pump doesn't kick on",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Faucet or toilet repair",
        60,
        "145.00",
        (("fixtures", 1),),
        (),
        3,
        3,
        (
            "Toilet runs constantly, flapper already replaced",
            "Kitchen faucet dripping at the base",
            "Toilet rocks and leaks at the base when flushed",
            "Replace bathroom faucet, customer has a new Moen",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Backflow test",
        45,
        "125.00",
        (("backflow", 3),),
        (),
        0.5,
        1.5,
        (
            "Annual backflow test for the lawn sprinklers, city notice received",
            "Annual RPZ test, due by the end of the month",
            "Backflow certification for the boiler feed",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Gas leak check",
        60,
        "175.00",
        (("gas-line", 2),),
        ("water heater",),
        1,
        0.5,
        (
            "Smells gas near the water heater; gas company already checked the meter",
            "Faint gas smell by the range, new stove installed last week",
            "Gas line for a new dryer, check and pressure test",
        ),
    ),
    JobSpec(
        Trade.PLUMBING,
        "Whole-house repipe",
        480,
        "8900.00",
        (("repipe", 3),),
        (),
        0.2,
        0.2,
        (
            "Galvanized supply lines, low pressure everywhere; repipe in PEX, quote approved",
            "Repipe both units of the 2-flat; tenants notified",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Troubleshooting call",
        90,
        "149.00",
        (("troubleshooting", 2),),
        ("electrical panel",),
        4,
        4,
        (
            "Breaker for the kitchen trips when the microwave and toaster run",
            "Half the outlets in the living room dead, no tripped breakers",
            "Lights flicker when the AC kicks on",
            "Burning smell from a bedroom outlet; customer switched off the breaker",
            "Bathroom GFCI won't reset",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Panel upgrade",
        480,
        "2850.00",
        (("panel-upgrade", 3), ("service-change", 2)),
        ("electrical panel",),
        0.4,
        0.4,
        (
            "Federal Pacific panel; insurance requires replacement, upgrade to 200A",
            "100A fuse box; adding an EV and an induction range, upgrade to 200A",
            "Panel full, double-tapped breakers found on inspection",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "EV charger install",
        240,
        "1450.00",
        (("ev-charger", 2),),
        ("electrical panel",),
        1,
        1.2,
        (
            "Level 2 charger in the detached garage, customer has a Tesla Wall Connector",
            "NEMA 14-50 outlet in the garage for a new EV",
            "ChargePoint Home Flex on a 60A circuit, panel in the basement",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Outlet or switch repair",
        60,
        "135.00",
        (("troubleshooting", 1),),
        (),
        3,
        3,
        (
            "Replace two-prong outlets in the bedrooms with grounded ones",
            "Hallway light switch sparks when flipped",
            "Add an outlet behind the wall-mounted TV",
            "Dining room dimmer buzzes",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Lighting install",
        120,
        "325.00",
        (("lighting", 1),),
        (),
        2,
        2,
        (
            "Six recessed LED cans in the basement family room",
            "Hang customer-supplied chandelier, 12 ft ceiling in the dining room",
            "Motion flood lights over the garage and the back gate",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Generator maintenance",
        90,
        "249.00",
        (("generator", 2),),
        ("standby generator",),
        1,
        1,
        (
            "Annual service on the standby generator",
            "Generator failed its weekly exercise, shows 'low battery'",
            "Transfer switch didn't switch back after the outage",
        ),
    ),
    JobSpec(
        Trade.ELECTRICAL,
        "Surge protector install",
        60,
        "395.00",
        (("panel-upgrade", 1),),
        ("electrical panel",),
        1,
        1,
        (
            "Whole-house surge protector after a lightning strike took out the TV and router",
            "Add whole-house surge protection with a panel check",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Roof leak repair",
        120,
        "485.00",
        (("leak-repair", 2),),
        ("roof",),
        3,
        3,
        (
            "Water stain spreading on the bedroom ceiling after rain",
            "Leak around the chimney flashing, drips into the attic",
            "Missing shingles after the windstorm, leak in the closet",
            "Leak where the plumbing vent goes through the roof",
            "Ice dam at the eaves, water coming through the kitchen ceiling",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Storm damage inspection",
        60,
        "0.00",
        (("inspection", 1),),
        ("roof",),
        2,
        3,
        (
            "Hail last week and the neighbours are getting new roofs; inspect for insurance",
            "Wind took off ridge cap shingles; photos for the adjuster",
            "Tree branch came down on the garage roof",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Tear-off and re-roof",
        480,
        "14500.00",
        (("shingle", 3), ("inspection", 1)),
        ("roof",),
        0,
        0,
        (
            "Tear-off and re-roof, GAF Timberline HDZ Charcoal, 24 squares, approved",
            "Re-roof after insurance approval; two layers to remove",
            "Tear-off and re-roof, Owens Corning Duration Driftwood",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Gutter cleaning",
        90,
        "225.00",
        (("gutters", 1),),
        (),
        2,
        1,
        (
            "Gutters overflowing at the back of the house",
            "Fall gutter cleaning and downspout flush",
            "Gutters clogged, water pours over the front entrance",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Gutter replacement",
        240,
        "1650.00",
        (("gutters", 2),),
        (),
        0.8,
        1,
        (
            "Replace sagging front gutters with 6-inch seamless",
            "Gutter and downspout replacement, white aluminum",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Flat roof repair",
        180,
        "875.00",
        (("flat-roof", 2),),
        ("roof",),
        1.5,
        1.5,
        (
            "Ponding on the flat roof of the 2-flat, leak into the top unit",
            "Blister and split in the mod-bit seam over the rear porch",
            "EPDM torn at the parapet, leak into the stairwell",
        ),
    ),
    JobSpec(
        Trade.ROOFING,
        "Skylight replacement",
        240,
        "1950.00",
        (("skylight", 2), ("leak-repair", 1)),
        ("roof",),
        0.6,
        1,
        (
            "Kitchen skylight leaks and is fogged between panes; replace with a Velux",
            "Replace two cracked skylights in the bathroom and hall",
        ),
    ),
)

RE_ROOF = "Tear-off and re-roof"
# Breakdowns a customer can call in as urgent or an emergency; nobody rushes a tune-up.
BREAKDOWNS = frozenset(
    {
        "No heat call",
        "AC repair",
        "Heat pump service",
        "Boiler repair",
        "Clogged drain",
        "Water heater repair",
        "Sump pump replacement",
        "Gas leak check",
        "Troubleshooting call",
        "Roof leak repair",
        "Storm damage inspection",
    }
)
# Jobs a crew of two books on one visit today, in order of preference.
CREW_JOBS_TODAY = (
    "Skylight replacement",
    "Gutter replacement",
    "Water heater replacement",
    "EV charger install",
)


# --- Technicians ---------------------------------------------------------------------


# What a CSR asks per job type (kept as data: a company edits job_type_questions rows).
# (prompt, kind, choices, required). Questions by trade come after the job's own.
_AGE = ("Age of system (years)", QuestionKind.NUMBER, (), False)
_ACCESS = ("Access notes (gate code, pets, parking)", QuestionKind.TEXT, (), False)
_EQUIPMENT = ("Equipment involved (make, model)", QuestionKind.TEXT, (), False)
TRADE_QUESTIONS: dict[Trade, tuple[tuple[str, QuestionKind, tuple[str, ...], bool], ...]] = {
    Trade.HVAC: (_EQUIPMENT, _AGE, _ACCESS),
    Trade.PLUMBING: (
        ("Is water still running or leaking?", QuestionKind.YES_NO, (), False),
        _EQUIPMENT,
        _ACCESS,
    ),
    Trade.ELECTRICAL: (
        ("Any burning smell, sparks or hot outlets?", QuestionKind.YES_NO, (), True),
        ("Panel location", QuestionKind.TEXT, (), False),
        _ACCESS,
    ),
    Trade.ROOFING: (
        (
            "Roof type",
            QuestionKind.CHOICE,
            ("Asphalt shingle", "Flat / modified", "Metal", "Tile", "Slate", "Not sure"),
            False,
        ),
        ("Stories", QuestionKind.NUMBER, (), False),
        _ACCESS,
    ),
}
JOB_QUESTIONS: dict[str, tuple[tuple[str, QuestionKind, tuple[str, ...], bool], ...]] = {
    "No heat call": (
        (
            "Symptoms",
            QuestionKind.CHOICE,
            ("No heat at all", "Blows cold air", "Short cycling", "Noise", "Thermostat blank"),
            True,
        ),
        ("Anyone vulnerable in the home (elderly, infant)?", QuestionKind.YES_NO, (), False),
    ),
    "AC repair": (
        (
            "Symptoms",
            QuestionKind.CHOICE,
            (
                "Not cooling",
                "Not running",
                "Leaking water",
                "Ice on lines",
                "Trips breaker",
                "Noise",
            ),
            True,
        ),
    ),
    "Water heater repair": (("Fuel", QuestionKind.CHOICE, ("Gas", "Electric", "Tankless"), True),),
    "Water heater replacement": (
        ("Fuel", QuestionKind.CHOICE, ("Gas", "Electric", "Tankless"), True),
        ("Tank size (gallons)", QuestionKind.NUMBER, (), False),
    ),
    "Gas leak check": (("Can the caller smell gas now?", QuestionKind.YES_NO, (), True),),
    "Clogged drain": (
        (
            "Which drain",
            QuestionKind.CHOICE,
            ("Kitchen", "Bathroom sink", "Tub / shower", "Toilet", "Floor drain", "Main line"),
            True,
        ),
    ),
    "Roof leak repair": (("Is water coming in right now?", QuestionKind.YES_NO, (), True),),
}

# The parts list line items choose materials from: (sku, name, unit, unit price).
PARTS: tuple[tuple[str, str, str, str], ...] = (
    ("CAP-455", "Run capacitor 45/5 µF 440 V", "each", "38.00"),
    ("CAP-355", "Run capacitor 35/5 µF 440 V", "each", "34.00"),
    ("CON-30A", "Contactor 1-pole 30 A 24 V coil", "each", "42.00"),
    ("IGN-HSI", "Hot surface igniter, silicon nitride", "each", "64.00"),
    ("FLM-SNS", "Flame sensor", "each", "28.00"),
    ("FLT-16251", "Pleated filter 16x25x1 MERV 11", "each", "14.00"),
    ("FLT-20251", "Pleated filter 20x25x1 MERV 11", "each", "15.00"),
    ("THM-T6", "Programmable thermostat, Wi-Fi", "each", "189.00"),
    ("REF-410A", "Refrigerant R-410A", "lb", "85.00"),
    ("MTR-CND", "Condenser fan motor 1/4 hp", "each", "215.00"),
    ("PRS-SW", "Pressure switch", "each", "56.00"),
    ("WH-TP-V", "T&P relief valve 3/4 in", "each", "32.00"),
    ("WH-ANODE", "Anode rod, magnesium", "each", "45.00"),
    ("WH-TCPL", "Thermocouple 24 in", "each", "18.00"),
    ("WH-50G", "Water heater 50 gal gas, 40k BTU", "each", "1195.00"),
    ("SMP-1/3", "Sump pump 1/3 hp submersible", "each", "245.00"),
    ("CHK-1.5", "Check valve 1-1/2 in", "each", "24.00"),
    ("PVC-15", "PVC pipe 1-1/2 in sch 40", "ft", "3.50"),
    ("PEX-34", "PEX-A tubing 3/4 in", "ft", "1.80"),
    ("WAX-RING", "Toilet wax ring with flange", "each", "9.00"),
    ("FLP-UNI", "Toilet flapper, universal", "each", "12.00"),
    ("CRT-KIT", "Faucet cartridge kit", "each", "36.00"),
    ("GFCI-20", "GFCI receptacle 20 A", "each", "26.00"),
    ("AFCI-15", "AFCI breaker 15 A", "each", "58.00"),
    ("BRK-20", "Breaker 20 A single pole", "each", "14.00"),
    ("SPD-WH", "Whole-home surge protector", "each", "165.00"),
    ("WIRE-122", "NM-B 12/2 cable", "ft", "1.20"),
    ("EVSE-48", "EV charger 48 A, hardwired", "each", "699.00"),
    ("SHG-BDL", "Architectural shingles", "bundle", "48.00"),
    ("FLS-STP", "Step flashing 4x4x8", "each", "1.50"),
    ("ICE-WTR", "Ice and water shield", "roll", "95.00"),
    ("SEAL-RF", "Roof sealant, tube", "each", "11.00"),
    ("BOOT-3", "Pipe boot 3 in", "each", "22.00"),
    ("GTR-5K", "Seamless gutter 5 in K-style", "ft", "9.00"),
    ("DSP-2x3", "Downspout 2x3", "ft", "6.50"),
)
# The trade each part is sold in (the price book's and the trucks' view of it).
PART_TRADES: dict[str, Trade] = {
    **dict.fromkeys(
        ("CAP-455", "CAP-355", "CON-30A", "IGN-HSI", "FLM-SNS", "FLT-16251", "FLT-20251"),
        Trade.HVAC,
    ),
    **dict.fromkeys(("THM-T6", "REF-410A", "MTR-CND", "PRS-SW"), Trade.HVAC),
    **dict.fromkeys(
        ("WH-TP-V", "WH-ANODE", "WH-TCPL", "WH-50G", "SMP-1/3", "CHK-1.5", "PVC-15"),
        Trade.PLUMBING,
    ),
    **dict.fromkeys(("PEX-34", "WAX-RING", "FLP-UNI", "CRT-KIT"), Trade.PLUMBING),
    **dict.fromkeys(
        ("GFCI-20", "AFCI-15", "BRK-20", "SPD-WH", "WIRE-122", "EVSE-48"), Trade.ELECTRICAL
    ),
    **dict.fromkeys(
        ("SHG-BDL", "FLS-STP", "ICE-WTR", "SEAL-RF", "BOOT-3", "GTR-5K", "DSP-2x3"),
        Trade.ROOFING,
    ),
}
# Which parts a finished job of each trade most likely used.
TRADE_PARTS: dict[Trade, tuple[str, ...]] = {
    Trade.HVAC: ("CAP-455", "CAP-355", "CON-30A", "IGN-HSI", "FLM-SNS", "FLT-16251", "PRS-SW"),
    Trade.PLUMBING: ("WH-TP-V", "WH-ANODE", "WH-TCPL", "CHK-1.5", "WAX-RING", "FLP-UNI"),
    Trade.ELECTRICAL: ("GFCI-20", "AFCI-15", "BRK-20", "WIRE-122"),
    Trade.ROOFING: ("SEAL-RF", "BOOT-3", "FLS-STP", "SHG-BDL"),
}
# How a demo job came in (an agreement's visits are the worker's, not a caller's).
_CALLED_IN = [
    WorkOrderSource.PHONE,
    WorkOrderSource.WEB,
    WorkOrderSource.REFERRAL,
    WorkOrderSource.REPEAT,
    WorkOrderSource.LEAD,
]
# (name, visits a year, price, the job type its visits are booked as, what it covers)
AGREEMENT_PLANS = (
    ("Comfort Club", 2, "189.00", "Furnace tune-up", "Furnace and central AC"),
    ("Plumbing Protection Plan", 1, "129.00", "Sewer camera inspection", "Drains, water heater"),
    ("Generator Care", 1, "149.00", "Generator maintenance", "Standby generator"),
)
# What callers asked for when they left a voicemail or a web request.
LEAD_REQUESTS = (
    "Furnace making a banging noise when it starts",
    "Quote for a new water heater, ours is 15 years old",
    "Need an outlet added in the garage",
    "Water stain on the ceiling after the storm",
    "AC tune-up before summer, please call back",
    "Kitchen sink drains slowly",
)


class TechSpec(NamedTuple):
    name: str
    trade: Trade
    home_zip: str
    shifts: tuple[tuple[tuple[int, ...], str, str], ...]  # (weekdays, starts, ends)
    skills: tuple[tuple[str, int], ...]


MON_FRI = (0, 1, 2, 3, 4)
TUE_SAT = (1, 2, 3, 4, 5)
EARLY = (MON_FRI, "07:00", "15:30")
DAYTIME = (MON_FRI, "08:00", "17:00")
# Sunday on call: breakdowns only, until the evening on-call technician takes over.
ON_CALL_SUNDAY = ((6,), "09:00", "16:00")

TECHNICIANS: tuple[TechSpec, ...] = (
    TechSpec(
        "Marcus Bell",
        Trade.HVAC,
        "60641",
        (EARLY,),
        (
            ("epa-608", 5),
            ("furnace", 5),
            ("heat-pump", 4),
            ("boiler", 4),
            ("ductwork", 4),
            ("refrigeration", 3),
            ("mini-split", 4),
            ("controls", 4),
        ),
    ),
    TechSpec(
        "Ana Lucía Ramírez",
        Trade.HVAC,
        "60629",
        (DAYTIME,),
        (
            ("epa-608", 3),
            ("furnace", 4),
            ("heat-pump", 3),
            ("boiler", 4),
            ("ductwork", 2),
            ("controls", 3),
        ),
    ),
    TechSpec(
        "Tomasz Nowak",
        Trade.HVAC,
        "60714",
        ((TUE_SAT, "07:00", "15:30"),),
        (
            ("epa-608", 4),
            ("furnace", 3),
            ("heat-pump", 4),
            ("refrigeration", 5),
            ("mini-split", 4),
            ("controls", 3),
        ),
    ),
    TechSpec(
        "Kevin Tran",
        Trade.HVAC,
        "60638",
        (DAYTIME, ON_CALL_SUNDAY),
        (("epa-608", 2), ("furnace", 2), ("heat-pump", 1), ("ductwork", 3), ("controls", 2)),
    ),
    # On call: evenings Sunday to Thursday, running past midnight.
    TechSpec(
        "DeShawn Carter",
        Trade.HVAC,
        "60618",
        (((6, 0, 1, 2, 3), "16:00", "00:30"),),
        (
            ("epa-608", 3),
            ("furnace", 4),
            ("heat-pump", 3),
            ("boiler", 3),
            ("ductwork", 2),
            ("controls", 3),
        ),
    ),
    TechSpec(
        "Patrick O'Malley",
        Trade.PLUMBING,
        "60634",
        (EARLY,),
        (
            ("drain-cleaning", 5),
            ("water-heater", 4),
            ("backflow", 3),
            ("sewer-camera", 4),
            ("gas-line", 4),
            ("repipe", 4),
            ("sump-pump", 3),
            ("fixtures", 4),
        ),
    ),
    TechSpec(
        "Rosa Delgado",
        Trade.PLUMBING,
        "60632",
        (EARLY,),
        (
            ("drain-cleaning", 3),
            ("water-heater", 3),
            ("backflow", 4),
            ("gas-line", 2),
            ("sump-pump", 3),
            ("fixtures", 4),
        ),
    ),
    TechSpec(
        "Samir Haddad",
        Trade.PLUMBING,
        "60076",
        (DAYTIME, ON_CALL_SUNDAY),
        (
            ("drain-cleaning", 4),
            ("water-heater", 3),
            ("sewer-camera", 3),
            ("repipe", 3),
            ("sump-pump", 4),
            ("fixtures", 3),
        ),
    ),
    TechSpec(
        "Jamal Washington",
        Trade.PLUMBING,
        "60453",
        ((TUE_SAT, "08:00", "17:00"),),
        (
            ("drain-cleaning", 3),
            ("water-heater", 2),
            ("gas-line", 2),
            ("sump-pump", 2),
            ("fixtures", 3),
        ),
    ),
    TechSpec(
        "Mei Chen",
        Trade.ELECTRICAL,
        "60630",
        (EARLY,),
        (
            ("panel-upgrade", 5),
            ("ev-charger", 4),
            ("generator", 3),
            ("lighting", 3),
            ("troubleshooting", 5),
            ("service-change", 4),
        ),
    ),
    # Four tens, Monday to Thursday.
    TechSpec(
        "Luis Herrera",
        Trade.ELECTRICAL,
        "60402",
        (((0, 1, 2, 3), "06:30", "17:00"),),
        (
            ("panel-upgrade", 3),
            ("ev-charger", 3),
            ("generator", 2),
            ("lighting", 4),
            ("troubleshooting", 3),
            ("service-change", 2),
        ),
    ),
    TechSpec(
        "Brian Kowalczyk",
        Trade.ELECTRICAL,
        "60016",
        (DAYTIME,),
        (
            ("panel-upgrade", 2),
            ("ev-charger", 2),
            ("generator", 4),
            ("lighting", 3),
            ("troubleshooting", 3),
            ("service-change", 1),
        ),
    ),
    TechSpec(
        "Dmitri Volkov",
        Trade.ROOFING,
        "60655",
        (EARLY,),
        (
            ("shingle", 5),
            ("flat-roof", 4),
            ("gutters", 3),
            ("leak-repair", 4),
            ("inspection", 5),
            ("skylight", 3),
        ),
    ),
    TechSpec(
        "Jake Sorensen",
        Trade.ROOFING,
        "60131",
        (EARLY,),
        (
            ("shingle", 4),
            ("flat-roof", 2),
            ("gutters", 4),
            ("leak-repair", 3),
            ("inspection", 3),
            ("skylight", 2),
        ),
    ),
    TechSpec(
        "Andrés Fuentes",
        Trade.ROOFING,
        "60707",
        (EARLY,),
        (("shingle", 3), ("flat-roof", 3), ("gutters", 3), ("leak-repair", 2), ("inspection", 2)),
    ),
)


# --- Customers -----------------------------------------------------------------------

# (given names, family names) of neighbourhoods the company serves, with a weight each.
NAME_POOLS: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        14,
        (
            "José",
            "María",
            "Juan",
            "Guadalupe",
            "Alejandro",
            "Lucía",
            "Jesús",
            "Ana",
            "Miguel",
            "Sofía",
            "Héctor",
            "Verónica",
            "Ramón",
            "Marisol",
        ),
        (
            "Núñez",
            "García",
            "Hernández",
            "López",
            "Martínez",
            "González",
            "Rodríguez",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
            "Flores",
            "Castillo",
            "Ortiz",
            "Ibarra",
            "Muñoz",
        ),
    ),
    (
        12,
        (
            "Darnell",
            "Keisha",
            "Andre",
            "Tamika",
            "Marcus",
            "Jasmine",
            "Terrence",
            "Latoya",
            "Malik",
            "Aaliyah",
            "Brandon",
            "Ebony",
            "Cedric",
            "Monique",
        ),
        (
            "Washington",
            "Jackson",
            "Johnson",
            "Williams",
            "Brown",
            "Robinson",
            "Harris",
            "Coleman",
            "Jenkins",
            "Thompson",
            "Walker",
            "Banks",
            "Dixon",
            "Fields",
        ),
    ),
    (
        10,
        (
            "Patrick",
            "Kathleen",
            "Sean",
            "Colleen",
            "Brian",
            "Megan",
            "Michael",
            "Erin",
            "Kevin",
            "Maureen",
            "Thomas",
            "Bridget",
            "Jennifer",
            "Daniel",
        ),
        (
            "O'Brien",
            "Murphy",
            "Sullivan",
            "Kelly",
            "Flanagan",
            "Quinn",
            "Byrne",
            "Gallagher",
            "Doyle",
            "McCarthy",
            "Walsh",
            "Brennan",
            "Miller",
            "Anderson",
        ),
    ),
    (
        8,
        (
            "Katarzyna",
            "Tomasz",
            "Agnieszka",
            "Paweł",
            "Małgorzata",
            "Łukasz",
            "Krzysztof",
            "Magdalena",
            "Stanisław",
            "Ewa",
            "Grzegorz",
            "Joanna",
        ),
        (
            "Nowak",
            "Wójcik",
            "Mazur",
            "Kaczmarek",
            "Krawczyk",
            "Zając",
            "Król",
            "Pawlak",
            "Sikora",
            "Baran",
            "Wróbel",
            "Górski",
        ),
    ),
    (
        5,
        ("Anthony", "Gina", "Salvatore", "Maria", "Vincent", "Angela", "Dominic", "Teresa"),
        ("Russo", "Esposito", "Romano", "Bianchi", "Ricci", "Marino", "DeLuca", "Caruso"),
    ),
    (
        5,
        ("Wei", "Li", "Jun", "Mei", "Xiaoming", "Yan", "Hui", "Jian"),
        ("Chen", "Wang", "Liu", "Zhang", "Huang", "Lin", "Wu", "Zhou"),
    ),
    (
        4,
        ("Min-jun", "Ji-woo", "Seo-yeon", "Hyun", "Soo-jin", "Daniel", "Grace"),
        ("Kim", "Park", "Lee", "Choi", "Jung", "Kang", "Yoon"),
    ),
    (
        5,
        ("Priya", "Rahul", "Anjali", "Vikram", "Deepa", "Arjun", "Sunita", "Rohan"),
        ("Patel", "Shah", "Reddy", "Iyer", "Gupta", "Desai", "Mehta", "Nair"),
    ),
    (
        3,
        ("Linh", "Minh", "Thảo", "Huy", "Ngọc", "Quang"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Võ", "Đặng"),
    ),
    (
        4,
        ("Omar", "Layla", "Khalid", "Nadia", "Yusuf", "Rania", "Tariq", "Samira"),
        ("Haddad", "Khoury", "Mansour", "Saleh", "Nasser", "Abboud"),
    ),
    (
        3,
        ("Georgios", "Eleni", "Nikos", "Dimitra", "Konstantinos", "Sofia"),
        ("Papadopoulos", "Georgiou", "Pappas", "Alexiou", "Nikolaidis"),
    ),
    (
        3,
        ("Oksana", "Taras", "Olena", "Andriy", "Iryna", "Mykola"),
        ("Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Melnyk"),
    ),
    (
        3,
        ("Maricel", "Jomar", "Rowena", "Jericho", "Lourdes", "Arnel"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Villanueva", "Dela Cruz"),
    ),
    (
        2,
        ("Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Emeka", "Funmilayo"),
        ("Okafor", "Adeyemi", "Eze", "Okonkwo", "Balogun"),
    ),
    (
        3,
        ("Søren", "Ingrid", "Lars", "Björn", "Renée", "Jürgen", "Annika", "François", "Chloé"),
        ("Lindqvist", "Johansson", "Müller", "Schäfer", "Nielsen", "Hoffmann", "Dubois", "Lefèvre"),
    ),
    (2, ("Ayşe", "Mehmet", "Elif", "Emre"), ("Yılmaz", "Öztürk", "Demir", "Şahin")),
)
NAMED_CUSTOMERS = ("José Núñez", "Zoë Åberg")

# (name, how many sites, site labels)
BUSINESSES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Lakeview Dental LLC", 1, ("Office",)),
    ("Ravenswood Auto Body", 1, ("Shop",)),
    ("Logan Square Laundromat", 1, ("Storefront",)),
    ("Pilsen Printworks", 1, ("Studio",)),
    ("Hernández Property Management", 3, ("3-flat on the north side", "6-unit building", "2-flat")),
    ("Northside Montessori", 1, ("School",)),
    ("Greektown Gyros Inc.", 1, ("Restaurant",)),
    ("Andersonville Yoga Studio", 1, ("Studio",)),
    ("Kowalczyk Bakery", 1, ("Bakery",)),
    ("Archer Heights Veterinary Clinic", 1, ("Clinic",)),
    ("Bronzeville Family Church", 1, ("Church",)),
    ("Oak Park Condo Association", 2, ("North building", "South building")),
    ("Sunrise Senior Living Co-op", 1, ("Main building",)),
    ("Midway Tool & Die", 1, ("Plant",)),
    ("Lincoln Square Music School", 1, ("School",)),
    ("Wicker Park Cycles", 1, ("Shop",)),
    ("Garfield Ridge Dental Group", 1, ("Office",)),
    ("Avondale Taqueria", 1, ("Restaurant",)),
    ("Evanston Pediatrics SC", 1, ("Office",)),
    ("Park Ridge Insurance Agency", 1, ("Office",)),
    ("Rogers Park Rentals LLC", 2, ("Courtyard building", "4-flat")),
    ("Beverly Hardware", 1, ("Store",)),
)

CUSTOMER_NOTES = (
    "Prefers text messages over calls",
    "Comfort Club member: 15% off repairs, no diagnostic fee",
    "Pays by check on site",
    "Prefers Spanish",
    "Referred by a neighbour",
    "Works nights; no calls before 10 AM",
    "Landlord; tenants call directly, owner approves anything over $300",
    "Past-due balance from last visit; collect before starting work",
    "Asks for the same tech every time if possible",
    "Send invoices by email only",
)
BUSINESS_NOTES = (
    "Net 30; invoices to accounts payable",
    "Tax exempt, certificate on file",
    "Service only outside business hours if possible",
    "PO number required on every invoice",
)
ACCESS_NOTES = (
    "Gate code {code}",
    "Dog in the yard; call before entering",
    "Park in the alley behind the garage",
    "Key in lockbox by the side door, code {code}",
    "Ring the bell for unit 2R",
    "Basement entrance at the back; low ceiling",
    "Tenant on site: call 10 minutes before arriving",
    "Permit parking zone; use the driveway",
    "Condo building: check in at the front desk",
    "Elderly owner, hard of hearing: knock loudly",
    "Attic access through the bedroom closet",
    "Side gate sticks; lift and push",
    "Two cats: keep the basement door closed",
    "Garage code {code}",
)
BUSINESS_ACCESS_NOTES = (
    "Deliveries entrance on the alley; ask for the manager",
    "Roof access ladder in the back storage room",
    "Building engineer meets techs at the loading dock",
    "Closed Mondays; call the owner's cell",
)
SECOND_SITE_LABELS = ("Rental", "Rental (2-flat)", "Mother's house", "Condo", "Coach house")


# --- Equipment -----------------------------------------------------------------------


class EquipmentSpec(NamedTuple):
    makes: tuple[tuple[str, tuple[str, ...]], ...]  # (make, models)
    age_years: tuple[int, int]
    serial: str  # {yy}, {ww}: install year and week; # a digit; @ a letter


EQUIPMENT: dict[str, EquipmentSpec] = {
    "furnace": EquipmentSpec(
        (
            ("Carrier", ("59SC5A080S17", "58SB0B070E14")),
            ("Trane", ("S9V2B080U4PSA", "S8X1B060M3PSB")),
            ("Lennox", ("EL296UH070XV36B", "ML180UH090P48B")),
            ("Rheem", ("R96VA0702317MSA", "R801TA075314MSA")),
            ("Goodman", ("GM9S960803BN", "GMVC961005CN")),
            ("Bryant", ("926TB42060V17",)),
        ),
        (1, 26),
        "{ww}{yy}@#####",
    ),
    "ac condenser": EquipmentSpec(
        (
            ("Carrier", ("24ACC636A003", "24ABB330A003")),
            ("Trane", ("4TTR4036L1000A", "4TTR6030J1000A")),
            ("Lennox", ("ML14XC1-036-230A", "XC21-036-230")),
            ("Rheem", ("RA1436AJ1NA", "RA1648AJ1NA")),
            ("Goodman", ("GSX140361", "GSXN403010")),
        ),
        (1, 20),
        "{yy}{ww}#######",
    ),
    "boiler": EquipmentSpec(
        (
            ("Weil-McLain", ("CGa-4", "EG-40", "Ultra-105")),
            ("Burnham", ("ES2-4", "Series 2 205")),
            ("Peerless", ("63-04", "PureFire PF-110")),
            ("Lochinvar", ("Knight WHN085",)),
        ),
        (4, 45),
        "CP{yy}#####",
    ),
    "water heater": EquipmentSpec(
        (
            ("A.O. Smith", ("GCR-50 300", "GPVL-50", "ENT-50")),
            ("Bradford White", ("RG250T6N", "RG240S6N")),
            ("Rheem", ("XG50T06EC38U1", "PROG40-38N RH67")),
            ("State", ("GS650YBRT",)),
            ("Rinnai", ("RU199iN",)),
        ),
        (1, 16),
        "{yy}{ww}@######",
    ),
    "electrical panel": EquipmentSpec(
        (
            ("Square D", ("QO140M200P", "HOM2040M200PC")),
            ("Eaton", ("BR2040B200", "CH40B200")),
            ("Siemens", ("P4040B1200CU",)),
            ("Federal Pacific", ("Stab-Lok 100A",)),
            ("GE", ("TM2010CCU",)),
        ),
        (3, 55),
        "",
    ),
    "roof": EquipmentSpec(
        (
            ("GAF", ("Timberline HDZ", "Timberline UHDZ")),
            ("Owens Corning", ("Duration", "Oakridge")),
            ("CertainTeed", ("Landmark",)),
            ("Firestone", ("RubberGard EPDM",)),
        ),
        (1, 28),
        "",
    ),
    "sump pump": EquipmentSpec(
        (
            ("Zoeller", ("M53 Mighty-Mate", "M98")),
            ("Liberty", ("257", "287")),
            ("Wayne", ("CDU980E",)),
        ),
        (1, 12),
        "{yy}{ww}####",
    ),
    "standby generator": EquipmentSpec(
        (
            ("Generac", ("Guardian 22kW 7043", "Guardian 14kW 7224")),
            ("Kohler", ("20RESCL",)),
        ),
        (1, 12),
        "#########",
    ),
}


# How a caller names the unit when they know its make and age.
UNIT_NOUNS = {
    "furnace": "furnace",
    "ac condenser": "AC",
    "boiler": "boiler",
    "water heater": "water heater",
    "electrical panel": "panel",
    "sump pump": "pump",
    "standby generator": "generator",
}


# --- Notes and outcomes --------------------------------------------------------------

DISPATCH_NOTES = (
    "Customer asked for a call 30 minutes before arrival.",
    "Customer on the maintenance plan: no diagnostic fee.",
    "Tenant will let the tech in; owner approved up to $500.",
    "Warranty call; we installed this equipment.",
    "Customer sent photos by text; attached to the file.",
    "Customer asked for an estimate for replacement as well.",
    "Bring shoe covers; new hardwood floors.",
)
# What the lead technician wrote when closing out, by job type.
COMPLETION_NOTES: dict[str, tuple[str, ...]] = {
    "No heat call": (
        "Replaced flame sensor and cleaned burners; furnace cycling normally.",
        "Replaced the hot surface igniter; heat restored.",
        "Pressure switch hose cracked; replaced, furnace running.",
        "Condensate trap clogged and tripping the furnace; cleared it.",
    ),
    "Furnace tune-up": (
        "Filter was packed solid; replaced and showed the customer how to change it.",
        "Tune-up done; CO readings normal, flame sensor cleaned.",
        "Tune-up done; blower wheel dirty, recommend cleaning next visit.",
    ),
    "AC repair": (
        "Replaced run capacitor; system cooling fine, 18°F split.",
        "Contactor pitted; replaced. Condenser running.",
        "Leak at the evaporator coil; quoted a coil replacement.",
    ),
    "AC tune-up": (
        "Cleaned condenser coil; refrigerant charge good.",
        "Tune-up done; drain line flushed.",
    ),
    "Heat pump service": (
        "Defrost sensor failed; replaced, heat pump cycling normally.",
        "Reversing valve solenoid replaced.",
    ),
    "Boiler repair": (
        "Expansion tank waterlogged; replaced, pressure steady at 15 psi.",
        "Bled the second-floor radiators; all heating now.",
        "Replaced the circulator pump.",
    ),
    "Thermostat install": (
        "Installed thermostat and ran a new C-wire from the furnace.",
        "Thermostat installed and set up on the customer's Wi-Fi.",
    ),
    "Mini-split install": (
        "Mini-split installed, line set run through the attic; customer shown the remote.",
    ),
    "Furnace replacement": ("New furnace installed, old unit hauled away; permit posted.",),
    "Clogged drain": (
        "Cleared the line with the 3/8 cable; recommended a camera inspection.",
        "Hair clog in the tub drain; cleared it and installed a strainer.",
        "Disposal jammed; freed it and cleared the trap.",
    ),
    "Water heater replacement": (
        "New 50-gallon installed with an expansion tank; old tank hauled away.",
        "Water heater installed; vent re-pitched to code.",
    ),
    "Water heater repair": (
        "Replaced the thermocouple; pilot holding.",
        "Drained and flushed the tank; sediment was heavy.",
        "Replaced the T&P valve.",
    ),
    "Sewer camera inspection": (
        "Found roots at 42 ft; gave the customer a quote for lining.",
        "Belly in the line at 30 ft; recording sent to the customer.",
    ),
    "Sump pump replacement": (
        "New Zoeller pump installed with a new check valve.",
        "Battery backup installed and tested.",
    ),
    "Faucet or toilet repair": (
        "Replaced the fill valve and flapper; no more running.",
        "Reset the toilet on a new wax ring.",
        "New cartridge in the kitchen faucet; drip stopped.",
    ),
    "Backflow test": (
        "Backflow test passed; report filed with the city.",
        "Check valve failed; rebuilt the assembly, retested and passed.",
    ),
    "Gas leak check": (
        "Leak at the flex connector behind the range; replaced, tested tight.",
        "No leak found; all fittings tested with the sniffer.",
    ),
    "Whole-house repipe": ("Repipe finished; walls open in three spots for the drywaller.",),
    "Troubleshooting call": (
        "Loose neutral at the panel; torqued all terminations.",
        "Replaced the failed GFCI and tested the downstream outlets.",
        "Kitchen circuit overloaded; quoted a dedicated 20A circuit.",
    ),
    "Panel upgrade": ("Panel swapped to 200A; ComEd reconnected, city inspection booked.",),
    "EV charger install": ("Charger installed on a new 60A circuit; permit pulled.",),
    "Outlet or switch repair": (
        "Replaced the switch and the backstabbed outlets on that circuit.",
        "Installed grounded outlets; two rooms needed new ground runs.",
    ),
    "Lighting install": ("Fixtures installed; customer happy with the dimmers.",),
    "Generator maintenance": (
        "Oil, filter and plugs changed; replaced the battery.",
        "Transfer switch relay replaced; generator exercised fine.",
    ),
    "Surge protector install": ("Surge protector installed at the panel.",),
    "Roof leak repair": (
        "Resealed chimney flashing and replaced 6 shingles; photos in the file.",
        "Replaced the pipe boot; no sign of further leaks.",
        "Steamed the ice dam off the eaves; recommend more attic insulation.",
    ),
    "Storm damage inspection": (
        "Photos sent to the insurance adjuster.",
        "Hail hits on the south slope; estimate sent for a re-roof.",
    ),
    "Tear-off and re-roof": ("Re-roof done; magnet sweep of the yard finished.",),
    "Gutter cleaning": ("Cleaned gutters, flushed downspouts; one hanger replaced.",),
    "Gutter replacement": ("New seamless gutters; downspouts extended away from the foundation.",),
    "Flat roof repair": ("Patched the seam and re-coated the low spot.",),
    "Skylight replacement": ("New skylights with new flashing kits; no leaks on the hose test.",),
}
CANCEL_REASONS = (
    "Customer fixed it themselves (reset the breaker)",
    "Customer went with another company",
    "Customer will call back to reschedule",
    "Landlord is handling it",
    "Customer decided to wait until after the holidays",
)
NO_SHOW_REASONS = (
    "No one home; left a door tag and a voicemail",
    "Gate locked, no answer on two calls",
    "Tenant refused entry; owner unreachable",
)

# Why a technician is behind, as the dispatcher noted it ({name}, {minutes}).
RUNNING_OVER = (
    "{name} is running over at the job before (more than quoted); customer called, told "
    "about {minutes} minutes late.",
    "{name} still on the previous call: the part on the truck was the wrong size. Customer "
    "told about {minutes} minutes.",
)
PARTS_RUNS = (
    "{name} made a parts run to the supply house on Elston; customer told about {minutes} "
    "minutes late.",
    "{name} stuck on the Kennedy after a parts run; called the customer, about {minutes} "
    "minutes behind.",
)
# A waiting visit this long past its window is late on the board (which allows 15).
LATE_BY = dt.timedelta(minutes=20)
MOST_LATE = dt.timedelta(minutes=75)  # later than this, the dispatcher would have rebooked

EMERGENCY_HEATING = (
    "No heat — elderly resident, furnace not igniting; house down to 56°F, daughter called it in"
)
EMERGENCY_COOLING = "No cooling — elderly resident, AC not starting; 88°F inside and climbing"


# --- Chicago streets -----------------------------------------------------------------


def _ordinal_suffix(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# East-west streets by their north (+) / south (-) grid number, and north-south streets
# by their west (+) / east (-) grid number; 800 numbers make a mile.
EAST_WEST_STREETS: tuple[tuple[int, str], ...] = (
    (800, "Chicago Ave"),
    (1000, "Augusta Blvd"),
    (1200, "Division St"),
    (1400, "Schiller St"),
    (1600, "North Ave"),
    (1800, "Cortland St"),
    (2000, "Armitage Ave"),
    (2200, "Webster Ave"),
    (2400, "Fullerton Ave"),
    (2600, "Wrightwood Ave"),
    (2800, "Diversey Ave"),
    (3000, "Wellington Ave"),
    (3200, "Belmont Ave"),
    (3400, "Roscoe St"),
    (3600, "Addison St"),
    (3800, "Grace St"),
    (4000, "Irving Park Rd"),
    (4200, "Berteau Ave"),
    (4400, "Montrose Ave"),
    (4600, "Wilson Ave"),
    (4800, "Lawrence Ave"),
    (5000, "Argyle St"),
    (5200, "Foster Ave"),
    (5400, "Balmoral Ave"),
    (5600, "Bryn Mawr Ave"),
    (5800, "Ardmore Ave"),
    (6000, "Peterson Ave"),
    (6200, "Granville Ave"),
    (6400, "Devon Ave"),
    (6800, "Pratt Blvd"),
    (7000, "Lunt Ave"),
    (7200, "Touhy Ave"),
    (7400, "Jarvis Ave"),
    (7600, "Howard St"),
    (-400, "Van Buren St"),
    (-600, "Harrison St"),
    (-800, "Polk St"),
    (-1200, "Roosevelt Rd"),
    (-1800, "18th St"),
    (-2200, "Cermak Rd"),
    (-3900, "Pershing Rd"),
    (-5500, "Garfield Blvd"),
    # South of Cermak the east-west streets are numbered by their hundreds.
    *((-100 * n, f"{n}{_ordinal_suffix(n)} St") for n in range(24, 120) if n not in (39, 55)),
)
NORTH_SOUTH_STREETS: tuple[tuple[int, str], ...] = (
    (0, "State St"),
    (800, "Halsted St"),
    (1000, "Sheffield Ave"),
    (1200, "Racine Ave"),
    (1400, "Southport Ave"),
    (1600, "Ashland Ave"),
    (1700, "Paulina St"),
    (1800, "Wood St"),
    (1900, "Wolcott Ave"),
    (2000, "Damen Ave"),
    (2100, "Hoyne Ave"),
    (2200, "Leavitt St"),
    (2300, "Oakley Ave"),
    (2400, "Western Ave"),
    (2500, "Campbell Ave"),
    (2600, "Rockwell St"),
    (2800, "California Ave"),
    (3000, "Sacramento Ave"),
    (3200, "Kedzie Ave"),
    (3400, "Kimball Ave"),
    (3600, "Central Park Ave"),
    (3800, "Hamlin Ave"),
    (4000, "Pulaski Rd"),
    (4200, "Keeler Ave"),
    (4400, "Kostner Ave"),
    (4600, "Kenton Ave"),
    (4800, "Cicero Ave"),
    (5000, "Lavergne Ave"),
    (5200, "Laramie Ave"),
    (5400, "Long Ave"),
    (5600, "Central Ave"),
    (5800, "Menard Ave"),
    (6000, "Austin Ave"),
    (6400, "Narragansett Ave"),
    (6800, "Oak Park Ave"),
    (7200, "Harlem Ave"),
    (8400, "Cumberland Ave"),
    (-400, "King Dr"),
    (-800, "Cottage Grove Ave"),
    (-1200, "Woodlawn Ave"),
    (-1400, "Dorchester Ave"),
    (-1600, "Stony Island Ave"),
    (-2000, "Jeffery Blvd"),
    (-2400, "Yates Blvd"),
)
SUBURBAN_STREETS = (
    "Maple Ave",
    "Oak St",
    "Elm St",
    "Park Ave",
    "Lincoln Ave",
    "Washington St",
    "Prospect Ave",
    "Ridge Rd",
    "Forest Ave",
    "Grove St",
    "Highland Ave",
    "Cedar Ln",
    "Linden Ave",
    "Hawthorne Ln",
    "Greenwood Ave",
    "Home Ave",
    "Wisconsin Ave",
    "Euclid Ave",
    "Clinton Ave",
    "Edgewood Ln",
    "Birch St",
    "Chestnut St",
    "Sunset Ave",
    "Jackson Blvd",
    "Cuyler Ave",
    "Harvey Ave",
    "Kenilworth Ave",
    "Wesley Ave",
)
# Grid numbers per degree at Chicago's latitude.
GRID_PER_DEGREE_LAT = 111.0 / 1.609 * 800
GRID_PER_DEGREE_LON = 111.0 * math.cos(math.radians(41.88)) / 1.609 * 800

# Fictional 555-01xx numbers only, so a demo can never ring a real person.
AREA_CODES_CITY = ("773", "312", "872")
AREA_CODES_NORTH = ("847", "224")
AREA_CODES_WEST = ("630", "331")
AREA_CODES_SOUTH = ("708",)
ALL_AREA_CODES = AREA_CODES_CITY + AREA_CODES_NORTH + AREA_CODES_WEST + AREA_CODES_SOUTH
# Reserved example domains, so a demo can never email a real person.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


# --- Planning ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Zip:
    code: str
    city: str
    state: str
    county: str
    lat: float
    lon: float


@dataclass
class _Tech:
    index: int
    spec: TechSpec
    login: str
    phone: str
    colour: str
    lat: float
    lon: float
    shifts: dict[int, tuple[dt.time, dt.time]]
    skills: dict[str, int]


@dataclass
class _Customer:
    name: str
    email: str | None
    notes: str
    created_at: dt.datetime
    phones: list[tuple[str, str]]
    business: bool


@dataclass
class _Site:
    customer: int
    label: str
    street: str
    zip: _Zip
    lat: float
    lon: float
    access_notes: str
    equipment: dict[str, int] = field(default_factory=dict)  # kind → equipment index


@dataclass
class _Equipment:
    site: int
    kind: str
    make: str
    model: str
    serial: str
    install_date: dt.date


@dataclass
class _Visit:
    sequence: int
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    window: tuple[dt.datetime, dt.datetime] | None = None
    crew: list[int] = field(default_factory=list)  # technician indexes, lead first
    travel: dt.timedelta = dt.timedelta(0)  # the drive there, for the en-route time
    shift_starts: dt.datetime | None = None  # the lead's shift that day
    status: str = VisitStatus.UNSCHEDULED
    created_at: dt.datetime | None = None
    # The time sheet: (from, to, note) for every technician on the visit.
    worked: list[tuple[dt.datetime, dt.datetime, str]] = field(default_factory=list)


@dataclass
class _Step:
    at: dt.datetime
    from_status: str | None
    to_status: str
    visit: int | None  # index into the order's visits
    reason: str | None
    by: str


@dataclass
class _Order:
    serial: int
    customer: int
    site: int
    job: JobSpec
    equipment: int | None
    description: str
    priority: str
    source: str
    visits: list[_Visit]
    outcome: str  # the visit status the last visit ends in
    created_at: dt.datetime = dt.datetime.min
    created_by: str = ""
    status: str = WorkOrderStatus.NEW
    cancel_reason: str | None = None
    requested: tuple[dt.datetime, dt.datetime] | None = None
    steps: list[_Step] = field(default_factory=list)
    notes: list[tuple[dt.datetime, str, str]] = field(default_factory=list)


@functools.cache
def _service_area() -> tuple[_Zip, ...]:
    """Street-address ZIPs within the service radius of downtown, in ZIP order."""
    found = []
    for record in zipcodes.filter_by(state="IL"):
        if record["zip_code_type"] != "STANDARD" or not record["active"]:
            continue
        lat, lon = float(record["lat"]), float(record["long"])
        if distance_km((lat, lon), DOWNTOWN) <= SERVICE_RADIUS_KM:
            found.append(
                _Zip(
                    record["zip_code"], record["city"], record["state"], record["county"], lat, lon
                )
            )
    # Postal-service ZIPs (60699, 60701) share one placeholder centroid: nobody lives there.
    shared = Counter((z.lat, z.lon) for z in found)
    return tuple(sorted((z for z in found if shared[z.lat, z.lon] == 1), key=lambda z: z.code))


# Letters NFKD does not split into a base letter and an accent.
_UNDECOMPOSABLE = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ı": "i", "ß": "ss", "æ": "ae"}
)


def _ascii(text: str) -> str:
    folded = text.translate(_UNDECOMPOSABLE)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _slug(text: str) -> str:
    return "".join(c for c in _ascii(text).lower() if c.isalnum())


class _Planner:
    """Builds the whole company in memory; ``seed_demo`` then writes it in bulk.

    ``rng`` draws the company and its schedule; ``moment_rng`` only what depends on the
    hour (who is running late), so the same day looks the same at 10:00 and at 14:00.
    """

    def __init__(
        self,
        rng: random.Random,
        moment_rng: random.Random,
        now: dt.datetime,
        tz: ZoneInfo,
        road_factor: float,
        speed_kmh: float,
    ) -> None:
        self.rng = rng
        self.moment_rng = moment_rng
        self.tz = tz
        self.now = now.astimezone(dt.UTC)
        self.today = now.astimezone(tz).date()
        today = self.today
        self.road_factor = road_factor
        self.speed_kmh = speed_kmh
        self.heating_season = today.month in (10, 11, 12, 1, 2, 3, 4)
        self.area = _service_area()
        self.jobs = {job.name: job for job in JOB_TYPES}
        self.techs: list[_Tech] = []
        self.customers: list[_Customer] = []
        self.sites: list[_Site] = []
        self.equipment: list[_Equipment] = []
        self.orders: list[_Order] = []
        self.addresses: set[tuple[str, str]] = set()
        self.mailboxes: set[str] = set()
        self.phone_pool = {
            code: [f"+1{code}55501{n:02d}" for n in range(100)] for code in ALL_AREA_CODES
        }
        for pool in self.phone_pool.values():
            rng.shuffle(pool)

    # -- small helpers --

    def _local(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=self.tz).astimezone(dt.UTC)

    def _jitter(self, lat: float, lon: float) -> tuple[float, float]:
        # Lake Michigan lies east of every lakefront centroid: nudge mostly west.
        return (
            round(lat + self.rng.uniform(-0.009, 0.009), 6),
            round(lon + self.rng.uniform(-0.013, 0.003), 6),
        )

    def _drive(self, a: tuple[float, float], b: tuple[float, float]) -> dt.timedelta:
        # The board's own estimate, so the demo's gaps pass its drive-time rule; and never
        # under ten minutes (parking, the van's door, the customer's door).
        minutes = DriveEstimate(self.road_factor, self.speed_kmh).minutes(a, b)
        return dt.timedelta(minutes=max(10, math.ceil(minutes)))

    def _on_grid(self, moment: dt.datetime) -> dt.datetime:
        """The first time on the board's snap grid at or after ``moment``, in UTC."""
        minutes = int(SNAP.total_seconds() // 60)
        return snap_up(moment, minutes, self.tz).astimezone(dt.UTC)

    def _phone(self, preferred: Sequence[str]) -> str:
        for code in (*preferred, *ALL_AREA_CODES):
            if self.phone_pool[code]:
                return self.phone_pool[code].pop()
        raise AssertionError("ran out of fictional phone numbers")

    def _area_codes(self, place: _Zip) -> tuple[str, ...]:
        if place.city == "Chicago":
            return AREA_CODES_CITY
        if place.county == "DuPage County":
            return AREA_CODES_WEST
        return AREA_CODES_NORTH if place.lat > 41.95 else AREA_CODES_SOUTH

    def _shift_span(self, tech: _Tech, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        hours = tech.shifts.get(day.weekday())
        if hours is None:
            return None
        starts, ends = hours
        end_day = day if ends > starts else day + DAY
        return self._local(day, starts), self._local(end_day, ends)

    def _qualified(self, tech: _Tech, job: JobSpec) -> bool:
        return skills_suffice(tech.skills, dict(job.skills))

    def _weight(self, job: JobSpec) -> float:
        return job.heating_weight if self.heating_season else job.cooling_weight

    # -- the company --

    def build(self) -> None:
        self._technicians()
        self._customers()
        self._history_and_today()
        for order in self.orders:
            self._paperwork(order)
        self._new_customers()

    def _technicians(self) -> None:
        by_trade: dict[Trade, list[TechSpec]] = {trade: [] for trade in Trade}
        for spec in TECHNICIANS:
            by_trade[spec.trade].append(spec)
        for index, spec in enumerate(TECHNICIANS):
            place = zipcodes.matching(spec.home_zip)[0]
            lat, lon = self._jitter(float(place["lat"]), float(place["long"]))
            peers = by_trade[spec.trade]
            shade = peers.index(spec) / max(1, len(peers) - 1) - 0.5 if len(peers) > 1 else 0.0
            first, *_, last = _ascii(spec.name).lower().replace("'", "").split()
            shifts = {}
            for weekdays, starts, ends in spec.shifts:
                for weekday in weekdays:
                    shifts[weekday] = (dt.time.fromisoformat(starts), dt.time.fromisoformat(ends))
            self.techs.append(
                _Tech(
                    index=index,
                    spec=spec,
                    login=first[0] + last,
                    phone=self._phone(ALL_AREA_CODES[index % len(ALL_AREA_CODES) :]),
                    colour=_shade(TRADE_COLOURS[spec.trade], shade * 0.3),
                    lat=lat,
                    lon=lon,
                    shifts=shifts,
                    skills=dict(spec.skills),
                )
            )

    def _customers(self) -> None:
        rng = self.rng
        count = rng.randint(290, 310)
        businesses = list(BUSINESSES)
        rng.shuffle(businesses)
        kinds: list[Any] = [*NAMED_CUSTOMERS, *businesses]
        kinds += [None] * (count - len(kinds))
        rng.shuffle(kinds)
        weights = [pool[0] for pool in NAME_POOLS]
        zip_weights = [3 if z.city == "Chicago" else 1 for z in self.area]
        # A customer sharing a technician's name would confuse every screen.
        taken: set[str] = {spec.name for spec in TECHNICIANS}
        for kind in kinds:
            since = self.today - dt.timedelta(days=rng.randint(30, 2400))
            created = self._local(
                since, dt.time(rng.randint(7, 18), rng.randint(0, 59), rng.randint(0, 59))
            )
            business = isinstance(kind, tuple)
            domain = rng.choice(EMAIL_DOMAINS)
            if business:
                name, site_count, labels = kind
                email = f"{rng.choice(('office', 'info', 'frontdesk'))}@{_slug(name)}.{domain}"
            else:
                if isinstance(kind, str):
                    name, (first, last) = kind, kind.split(" ", 1)
                else:
                    name, first, last = self._person_name(weights, taken)
                site_count = rng.choices((1, 2, 3), (88, 8, 4))[0]
                labels = ("Home", *rng.sample(SECOND_SITE_LABELS, 2))
                email = f"{self._mailbox(_slug(first), _slug(last))}@{domain}"
            taken.add(name)
            customer_index = len(self.customers)
            first_place: _Zip | None = None
            for n in range(site_count):
                place = rng.choices(self.area, zip_weights)[0]
                first_place = first_place or place
                self._site(customer_index, labels[n], place, business)
            assert first_place is not None
            phones = [
                (
                    self._phone(self._area_codes(first_place)),
                    "office" if business else rng.choice(("mobile", "home")),
                )
            ]
            if rng.random() < 0.35:
                phones.append(
                    (
                        self._phone(ALL_AREA_CODES[rng.randrange(len(ALL_AREA_CODES)) :]),
                        rng.choice(("mobile", "work")) if not business else "owner",
                    )
                )
            notes = ""
            if rng.random() < 0.25:
                notes = rng.choice(BUSINESS_NOTES if business else CUSTOMER_NOTES)
            self.customers.append(
                _Customer(
                    name=name,
                    email=email if rng.random() < 0.85 else None,
                    notes=notes,
                    created_at=created,
                    phones=phones,
                    business=business,
                )
            )

    def _person_name(self, weights: list[int], taken: set[str]) -> tuple[str, str, str]:
        """A full name (sometimes a couple's), with the given and family name in it."""
        rng = self.rng
        while True:
            _, given, family = rng.choices(NAME_POOLS, weights)[0]
            first, last = rng.choice(given), rng.choice(family)
            name = f"{first} {last}"
            if rng.random() < 0.06:
                partner = rng.choice([g for g in given if g != first])
                name = f"{first} & {partner} {last}"
            if name not in taken:
                return name, first, last

    def _mailbox(self, first: str, last: str) -> str:
        """The part before the @, unique across the company: ``jose.nunez``, ``jnunez``…"""
        rng = self.rng
        local = rng.choice(
            (
                f"{first}.{last}",
                f"{first[0]}{last}",
                f"{first}{last}",
                f"{first}.{last}{rng.randint(1, 99)}",
            )
        )
        while local in self.mailboxes:
            local = f"{first}.{last}{rng.randint(1, 99)}"
        self.mailboxes.add(local)
        return local

    def _site(self, customer: int, label: str, place: _Zip, business: bool) -> None:
        rng = self.rng
        lat, lon = self._jitter(place.lat, place.lon)
        if place.city == "Chicago":
            house, name = self._chicago_street(lat, lon)
        else:
            prefix = rng.choice(("", "", "N ", "S ", "W ", "E "))
            house, name = rng.randint(100, 1999), f"{prefix}{rng.choice(SUBURBAN_STREETS)}"
        while (f"{house} {name}", place.code) in self.addresses:
            house += 2 * rng.randint(1, 12)
        street = f"{house} {name}"
        self.addresses.add((street, place.code))
        access = ""
        if rng.random() < 0.3:
            access = rng.choice(BUSINESS_ACCESS_NOTES if business else ACCESS_NOTES)
            access = access.format(code=f"{rng.randint(0, 9999):04d}")
        site = _Site(
            customer=customer,
            label=label,
            street=street,
            zip=place,
            lat=lat,
            lon=lon,
            access_notes=access,
        )
        site_index = len(self.sites)
        self.sites.append(site)
        suburban = place.city != "Chicago"
        heating = "furnace" if rng.random() < 0.72 else "boiler"
        chances = {
            heating: 0.9,
            "ac condenser": 0.75 if heating == "furnace" else 0.15,
            "water heater": 0.85,
            "electrical panel": 0.55,
            "roof": 0.45,
            "sump pump": 0.45 if suburban else 0.25,
            "standby generator": 0.12 if suburban else 0.02,
        }
        for kind, chance in chances.items():
            if rng.random() < chance:
                self._equipment(site_index, kind)

    def _chicago_street(self, lat: float, lon: float) -> tuple[int, str]:
        """A house number and street on the city grid near the point."""
        rng = self.rng
        north = (lat - DOWNTOWN[0]) * GRID_PER_DEGREE_LAT
        west = (DOWNTOWN[1] - lon) * GRID_PER_DEGREE_LON
        # Close to State St an east-west street would have a tiny house number.
        if abs(west) < 200 or (abs(west) > 800 and rng.random() < 0.5):
            _, name = min(NORTH_SOUTH_STREETS, key=lambda s: (abs(s[0] - west), s[1]))
            number, side = abs(north), "N" if north >= 0 else "S"
        else:
            _, name = min(EAST_WEST_STREETS, key=lambda s: (abs(s[0] - north), s[1]))
            number, side = abs(west), "W" if west >= 0 else "E"
        house = max(100, int(number) // 2 * 2 + rng.randint(0, 1))
        return house, f"{side} {name}"

    def _equipment(self, site: int, kind: str) -> None:
        rng = self.rng
        spec = EQUIPMENT[kind]
        make, models = rng.choice(spec.makes)
        installed = self.today - dt.timedelta(
            days=rng.randint(spec.age_years[0] * 365, spec.age_years[1] * 365)
        )
        if make == "Federal Pacific":
            # Stab-Lok panels were last made in the 1980s.
            installed = min(installed, dt.date(1985, 6, 1))
        serial = spec.serial.format(
            yy=f"{installed.year % 100:02d}", ww=f"{installed.isocalendar().week:02d}"
        )
        serial = "".join(
            str(rng.randint(0, 9))
            if c == "#"
            else rng.choice("ABCDEFGHJKLMNPRSTVWXYZ")
            if c == "@"
            else c
            for c in serial
        )
        self.sites[site].equipment[kind] = len(self.equipment)
        self.equipment.append(_Equipment(site, kind, make, rng.choice(models), serial, installed))

    # -- work --

    def _history_and_today(self) -> None:
        days = [self.today - dt.timedelta(days=n) for n in range(HISTORY_DAYS, 0, -1)]
        roofers = [t for t in self.techs if t.spec.trade is Trade.ROOFING]
        crew_days: dict[dt.date, list[_Order]] = {}
        first_jobs: dict[tuple[dt.date, int], list[_Order]] = {}
        self._plan_re_roofs(days, roofers, crew_days, first_jobs)
        for day in days:
            self._work_day(day, crew_days.get(day, []), first_jobs, today=False)
        self._work_day(self.today, self._crew_today(), first_jobs, today=True)
        self._statuses_today()
        self._unassigned_today()
        for day in sorted(d for d in crew_days if d > self.today):
            self._place_crews(day, crew_days[day], set())
            for order in crew_days[day]:
                order.outcome = VisitStatus.SCHEDULED

    def _plan_re_roofs(
        self,
        days: list[dt.date],
        roofers: list[_Tech],
        crew_days: dict[dt.date, list[_Order]],
        first_jobs: dict[tuple[dt.date, int], list[_Order]],
    ) -> None:
        """Re-roofs: one roofer inspects, a crew tears off days later (one still ahead)."""
        rng = self.rng
        job = self.jobs[RE_ROOF]

        def on_shift(day: dt.date) -> list[_Tech]:
            return [t for t in roofers if day.weekday() in t.shifts and self._qualified(t, job)]

        eligible = [d for d in days[6:] if len(on_shift(d)) >= 2]
        tear_off_days = sorted(rng.sample(eligible, min(2, len(eligible))))
        future = [self.today + dt.timedelta(days=n) for n in range(2, 12)]
        ahead = next((d for d in future if len(on_shift(d)) >= 2), None)
        if ahead is not None:
            tear_off_days.append(ahead)
        for tear_off in tear_off_days:
            inspect_on = [
                d
                for d in days
                if tear_off - dt.timedelta(days=8) <= d <= tear_off - dt.timedelta(days=3)
                and d not in tear_off_days
                and on_shift(d)
            ]
            if not inspect_on:
                continue
            inspection_day = rng.choice(inspect_on)
            crew = on_shift(tear_off)
            crew.sort(key=lambda t: (-t.skills.get("shingle", 0), t.index))
            inspector = rng.choice(on_shift(inspection_day))
            site = self._pick_site((inspector.lat, inspector.lon), job, set(), candidates=30)
            order = self._order(
                site,
                job,
                [_Visit(1, crew=[inspector.index]), _Visit(2, crew=[t.index for t in crew])],
                Priority.NORMAL,
                VisitStatus.COMPLETED,
            )
            crew_days.setdefault(tear_off, []).append(order)
            first_jobs.setdefault((inspection_day, inspector.index), []).append(order)

    def _crew_today(self) -> list[_Order]:
        """Today's one two-person job, at the start of both technicians' shifts."""
        on_shift = [t for t in self.techs if self.today.weekday() in t.shifts]
        for name in CREW_JOBS_TODAY:
            job = self.jobs[name]
            able = [t for t in on_shift if t.spec.trade is job.trade and self._qualified(t, job)]
            if len(able) < 2:
                continue
            main = job.skills[0][0]
            able.sort(key=lambda t: (-t.skills[main], t.index))
            lead, helper = able[0], able[1]
            site = self._pick_site((lead.lat, lead.lon), job, set(), candidates=20)
            return [
                self._order(
                    site,
                    job,
                    [_Visit(1, crew=[lead.index, helper.index])],
                    Priority.NORMAL,
                    VisitStatus.COMPLETED,
                )
            ]
        return []

    def _order(
        self,
        site: int,
        job: JobSpec,
        visits: list[_Visit],
        priority: str,
        outcome: str,
        description: str | None = None,
    ) -> _Order:
        rng = self.rng
        equipment = next(
            (
                self.sites[site].equipment[k]
                for k in job.equipment
                if k in self.sites[site].equipment
            ),
            None,
        )
        if description is None:
            description = rng.choice(job.descriptions)
            unit = self.equipment[equipment] if equipment is not None else None
            if unit is not None and unit.kind in UNIT_NOUNS and rng.random() < 0.3:
                age = max(1, (self.today - unit.install_date).days // 365)
                description += f". {unit.make} {UNIT_NOUNS[unit.kind]}, about {age} years old"
        order = _Order(
            serial=len(self.orders),
            customer=self.sites[site].customer,
            site=site,
            job=job,
            equipment=equipment,
            description=description,
            priority=priority,
            source=WorkOrderSource.PHONE,
            visits=visits,
            outcome=outcome,
        )
        self.orders.append(order)
        return order

    def _pick_site(
        self, near: tuple[float, float], job: JobSpec, used: set[int], candidates: int = 10
    ) -> int:
        """The closest of a few random sites, preferring ones with the equipment concerned."""
        pool = [i for i in self.rng.sample(range(len(self.sites)), candidates) if i not in used]
        if not pool:
            pool = [i for i in range(len(self.sites)) if i not in used]
        if job.equipment:
            fitting = [i for i in pool if any(k in self.sites[i].equipment for k in job.equipment)]
            pool = fitting or pool
        return min(
            pool, key=lambda i: (distance_km(near, (self.sites[i].lat, self.sites[i].lon)), i)
        )

    def _nearest_site(self, near: tuple[float, float], used: set[int]) -> int:
        return min(
            (i for i in range(len(self.sites)) if i not in used),
            key=lambda i: (distance_km(near, (self.sites[i].lat, self.sites[i].lon)), i),
        )

    def _window(
        self, starts: dt.datetime, shift_starts: dt.datetime
    ) -> tuple[dt.datetime, dt.datetime]:
        """The arrival window promised: 2 or 4 hours, aligned on the shift's first hour."""
        length = HOUR * self.rng.choice((2, 2, 2, 4))
        local = shift_starts.astimezone(self.tz)
        anchor = shift_starts - dt.timedelta(minutes=local.minute, seconds=local.second)
        opens = anchor + ((starts - anchor) // length) * length
        return opens, opens + length

    def _place_crews(
        self, day: dt.date, crew_orders: list[_Order], used: set[int]
    ) -> dict[int, tuple[dt.datetime, tuple[float, float]]]:
        """Crew visits open the day for everyone on them; returns when and where each is free."""
        free_from: dict[int, tuple[dt.datetime, tuple[float, float]]] = {}
        for order in crew_orders:
            visit = order.visits[-1]
            spans = [self._shift_span(self.techs[i], day) for i in visit.crew]
            assert all(spans)
            starts = max(s[0] for s in spans if s) + SNAP
            visit.starts, visit.ends = starts, starts + dt.timedelta(minutes=order.job.minutes)
            lead_shift = spans[0]
            assert lead_shift is not None
            visit.shift_starts = lead_shift[0]
            visit.window = self._window(starts, lead_shift[0])
            visit.travel = SNAP
            site = self.sites[order.site]
            used.add(order.site)
            for i in visit.crew:
                free_from[i] = (visit.ends, (site.lat, site.lon))
        return free_from

    def _work_day(
        self,
        day: dt.date,
        crew_orders: list[_Order],
        first_jobs: dict[tuple[dt.date, int], list[_Order]],
        *,
        today: bool,
    ) -> None:
        rng = self.rng
        used: set[int] = set()
        free_from = self._place_crews(day, crew_orders, used)
        for tech in self.techs:
            span = self._shift_span(tech, day)
            if span is None:
                continue
            cursor, where = free_from.get(tech.index, (span[0], (tech.lat, tech.lon)))
            booked = sum(1 for o in crew_orders if tech.index in o.visits[-1].crew)
            # Evenings and Sundays are on call: breakdowns and quick calls.
            sunday = day.weekday() == 6
            evening = span[0].astimezone(self.tz).hour >= 15 or sunday
            if today and sunday:
                target = rng.choices((2, 3, 4), (30, 45, 25))[0]
            elif today:
                target = rng.choices((3, 4, 5, 6), (15, 35, 35, 15))[0]
            elif booked:
                target = booked
            else:
                target = rng.choices((2, 3, 4, 5, 6), (10, 25, 35, 20, 10))[0]
            forced = list(first_jobs.get((day, tech.index), []))
            route: list[_Visit] = []
            while booked + len(route) < target:
                if forced:
                    order = forced.pop(0)
                    job, site_index = self.jobs["Storm damage inspection"], order.site
                    minutes = job.minutes + 30  # measuring up for the estimate
                else:
                    order = None
                    # Leave room for the visits still owed today: a short call and a drive each.
                    still_owed = max(0, (3 if today else 1) - booked - len(route) - 1)
                    room = span[1] - cursor - 30 * MINUTE - still_owed * (HOUR + MAX_DRIVE + SNAP)
                    choices = [
                        j
                        for j in JOB_TYPES
                        if j.trade is tech.spec.trade
                        and j.name != RE_ROOF
                        and self._qualified(tech, j)
                        and dt.timedelta(minutes=j.minutes) <= room
                        and self._weight(j) > 0
                        # After hours: breakdowns and quick calls, no installs.
                        and (
                            not evening or j.name in BREAKDOWNS or (j.minutes <= 60 and not sunday)
                        )
                    ]
                    if not choices:
                        break
                    job = rng.choices(choices, [self._weight(j) for j in choices])[0]
                    site_index = self._pick_site(where, job, used)
                    minutes = job.minutes
                site = self.sites[site_index]
                travel = self._drive(where, (site.lat, site.lon))
                starts = self._on_grid(cursor + travel)
                ends = starts + dt.timedelta(minutes=minutes)
                # No dispatcher sends a tech across town when a job waits around the corner.
                if order is None and (ends > span[1] or travel > MAX_DRIVE):
                    site_index = self._nearest_site(where, used)
                    site = self.sites[site_index]
                    travel = self._drive(where, (site.lat, site.lon))
                    starts = self._on_grid(cursor + travel)
                    ends = starts + dt.timedelta(minutes=minutes)
                if ends > span[1]:
                    break
                visit = _Visit(
                    1, starts, ends, self._window(starts, span[0]), [tech.index], travel, span[0]
                )
                if order is not None:
                    order.visits[0] = visit
                else:
                    priority = self._priority(job, evening, emergencies=not today)
                    self._order(site_index, job, [visit], priority, self._outcome(today))
                route.append(visit)
                used.add(site_index)
                cursor, where = ends, (site.lat, site.lon)

    def _priority(self, job: JobSpec, evening: bool, *, emergencies: bool) -> str:
        roll = self.rng.random()
        if job.name not in BREAKDOWNS:
            return Priority.NORMAL
        if emergencies and roll < (0.15 if evening else 0.03):
            return Priority.EMERGENCY
        if roll < (0.45 if evening else 0.15):
            return Priority.URGENT
        return Priority.NORMAL

    def _outcome(self, today: bool) -> str:
        if today:
            return VisitStatus.SCHEDULED  # settled by the clock in _statuses_today
        return self.rng.choices(
            (VisitStatus.COMPLETED, VisitStatus.CANCELLED, VisitStatus.NO_SHOW), (92, 5, 3)
        )[0]

    def _statuses_today(self) -> None:
        """Today's visits, and last night's still running, as the board stands at now."""
        by_lead: dict[int, list[_Visit]] = {}
        for order in self.orders:
            for visit in order.visits:
                if not visit.crew or visit.shift_starts is None or visit.ends is None:
                    continue
                shift_day = visit.shift_starts.astimezone(self.tz).date()
                if shift_day == self.today or (shift_day < self.today and visit.ends > self.now):
                    by_lead.setdefault(visit.crew[0], []).append(visit)
        order_of = {id(v): o for o in self.orders for v in o.visits}
        for lead in sorted(by_lead):
            visits = sorted(by_lead[lead], key=lambda v: v.starts or self.now)
            upcoming = 0
            for visit in visits:
                assert visit.starts is not None and visit.ends is not None
                assert visit.shift_starts is not None
                if visit.ends <= self.now:
                    status = VisitStatus.COMPLETED
                elif visit.starts <= self.now:
                    status = VisitStatus.ON_SITE
                elif visit.shift_starts > self.now:
                    status = VisitStatus.SCHEDULED
                else:
                    upcoming += 1
                    if upcoming == 1 and visit.starts - visit.travel <= self.now:
                        status = VisitStatus.EN_ROUTE
                    elif upcoming <= 2:
                        status = VisitStatus.DISPATCHED
                    else:
                        status = VisitStatus.SCHEDULED
                visit.status = status
                order_of[id(visit)].outcome = status
        self._running_late(by_lead, order_of)

    def _running_late(self, by_lead: dict[int, list[_Visit]], order_of: dict[int, _Order]) -> None:
        """One or two technicians behind schedule, for a reason the office wrote down.

        A visit the schedule has them on now, whose promised window closed a while ago,
        is still waiting for them: they ran over at the job before, or went for parts.
        """
        rng = self.moment_rng
        candidates = []
        for lead in sorted(by_lead):
            visits = sorted(by_lead[lead], key=lambda v: v.starts or self.now)
            for previous, visit in zip([None, *visits], visits, strict=False):
                assert visit.starts is not None and visit.shift_starts is not None
                if visit.status != VisitStatus.ON_SITE or len(visit.crew) > 1:
                    continue
                if order_of[id(visit)].visits[-1] is not visit:
                    continue
                local = visit.starts.astimezone(self.tz)
                promised_by = visit.starts + (60 - local.minute) * MINUTE  # the next hour
                if promised_by + LATE_BY > self.now or self.now - visit.starts > MOST_LATE:
                    continue
                candidates.append((lead, previous, visit, promised_by))
        for lead, previous, visit, promised_by in rng.sample(candidates, min(2, len(candidates))):
            assert visit.starts is not None and visit.shift_starts is not None
            shift_local = visit.shift_starts.astimezone(self.tz)
            shift_hour = visit.shift_starts - shift_local.minute * MINUTE
            visit.window = (max(promised_by - 2 * HOUR, shift_hour), promised_by)
            first_name = self.techs[lead].spec.name.split()[0]
            behind = (self.now - visit.starts) // MINUTE + rng.randint(10, 25)
            behind = 5 * round(behind / 5)
            ran_over = (
                previous is not None
                and len(previous.crew) == 1
                and order_of[id(previous)].visits[-1] is previous
                and previous.ends is not None
                and previous.ends > self.now - 90 * MINUTE
            )
            if ran_over:
                assert previous is not None
                previous.status = VisitStatus.ON_SITE
                order_of[id(previous)].outcome = VisitStatus.ON_SITE
                reason = rng.choice(RUNNING_OVER).format(name=first_name, minutes=behind)
            else:
                reason = rng.choice(PARTS_RUNS).format(name=first_name, minutes=behind)
            visit.status = VisitStatus.DISPATCHED
            order = order_of[id(visit)]
            order.outcome = VisitStatus.DISPATCHED
            order.notes.append((self.now - rng.randint(3, 12) * MINUTE, DISPATCHER, reason))
            for other in by_lead[lead]:  # nobody drives to two places at once
                if other.status == VisitStatus.EN_ROUTE:
                    other.status = VisitStatus.DISPATCHED
                    order_of[id(other)].outcome = VisitStatus.DISPATCHED

    def _unassigned_today(self) -> None:
        """Calls still waiting for a technician, and one emergency the dispatcher must place."""
        rng = self.rng
        used = {
            o.site
            for o in self.orders
            for v in o.visits
            if v.starts is not None and v.starts.astimezone(self.tz).date() == self.today
        }
        count = rng.randint(6, 10)
        urgent = 2
        for n in range(count):
            trade = list(Trade)[n % len(Trade)]
            choices = [
                j
                for j in JOB_TYPES
                if j.trade is trade
                and self._weight(j) > 0
                and j.minutes <= 240
                and j.name != RE_ROOF
                and (n >= urgent or j.name in BREAKDOWNS)
            ]
            job = rng.choices(choices, [self._weight(j) for j in choices])[0]
            somewhere = self.sites[rng.randrange(len(self.sites))]
            site = self._pick_site((somewhere.lat, somewhere.lon), job, used)
            used.add(site)
            visit = _Visit(1)
            if n % 3 == 2:
                # The customer was promised a window later today (or tomorrow morning,
                # asked late in the day); nobody is on it yet.
                opens_at = self._promise_opens()
                starts = opens_at + HOUR * rng.choice((0, 1, 2))
                visit.starts = starts
                visit.ends = starts + dt.timedelta(minutes=job.minutes)
                visit.window = (opens_at, opens_at + 4 * HOUR)
                visit.status = VisitStatus.SCHEDULED
            priority = Priority.URGENT if n < urgent else Priority.NORMAL
            self._order(site, job, [visit], priority, VisitStatus.UNSCHEDULED)
        job = self.jobs["No heat call" if self.heating_season else "AC repair"]
        homes = [
            i
            for i, s in enumerate(self.sites)
            if not self.customers[s.customer].business
            and i not in used
            and any(k in s.equipment for k in job.equipment)
        ]
        site = homes[rng.randrange(len(homes))]
        self._order(
            site,
            job,
            [_Visit(1)],
            Priority.EMERGENCY,
            VisitStatus.UNSCHEDULED,
            EMERGENCY_HEATING if self.heating_season else EMERGENCY_COOLING,
        )

    def _promise_opens(self) -> dt.datetime:
        """When a four-hour window promised now opens: in two hours' time if that still
        fits the working day, else at 8:00 the next morning."""
        local = self.now.astimezone(self.tz)
        if 6 <= local.hour <= 12:
            return self._local(self.today, dt.time(local.hour + 2))
        next_day = self.today + DAY if local.hour > 12 else self.today
        return self._local(next_day, dt.time(8))

    # -- paperwork: intake, status history, notes --

    def _paperwork(self, order: _Order) -> None:
        rng = self.rng
        first = order.visits[0]
        if order.outcome == VisitStatus.UNSCHEDULED:
            self._intake_today(order)
        else:
            assert first.starts is not None
            order.source = rng.choices(_CALLED_IN, (55, 20, 7, 15, 3))[0]
            if order.priority != Priority.NORMAL:
                order.source = WorkOrderSource.PHONE
            order.created_at = self._intake_time(first.starts, order)
            hour = order.created_at.astimezone(self.tz).hour
            if order.source == WorkOrderSource.WEB:
                order.created_by = WEB_BOOKING
                order.requested = first.window
            elif hour < 7 or hour >= 19:
                order.created_by = ANSWERING_SERVICE
            else:
                order.created_by = rng.choice(CALL_TAKERS)
                if rng.random() < 0.15:
                    order.requested = first.window
        for visit in order.visits:
            visit.created_at = visit.created_at or order.created_at
        self._history(order)
        if rng.random() < 0.25:
            self._notes(order)

    def _intake_time(self, starts: dt.datetime, order: _Order) -> dt.datetime:
        rng = self.rng
        if order.priority == Priority.EMERGENCY:
            lead = dt.timedelta(minutes=rng.randint(40, 150))
        elif order.priority == Priority.URGENT:
            lead = dt.timedelta(minutes=rng.randint(120, 1200))
        else:
            lead = dt.timedelta(minutes=rng.randint(240, 6 * 1440))
        taken = starts - lead
        if order.source != WorkOrderSource.WEB and order.priority != Priority.EMERGENCY:
            local = taken.astimezone(self.tz)
            # Phones are answered 7 to 7; a call "at 3 AM" came in the afternoon before.
            if local.hour < 7:
                taken = self._local(local.date() - DAY, dt.time(16)) + rng.randint(0, 179) * MINUTE
            elif local.hour >= 19:
                taken = self._local(local.date(), dt.time(16)) + rng.randint(0, 179) * MINUTE
        taken = min(taken, self.now - rng.randint(20, 150) * MINUTE)
        return taken.replace(second=rng.randint(0, 59))

    def _intake_today(self, order: _Order) -> None:
        """A call still in the queue: taken this morning, or yesterday afternoon, never
        after now; out of hours the answering service or the web form took it."""
        rng = self.rng
        local = self.now.astimezone(self.tz)
        if order.priority == Priority.EMERGENCY:
            order.created_at = self.now - 19 * MINUTE
            order.created_by = CALL_TAKERS[0]
            order.requested = (order.created_at, order.created_at + 2 * HOUR)
        else:
            opens = self._local(self.today, dt.time(7, 5))
            closes = min(self.now - 5 * MINUTE, self._local(self.today, dt.time(18, 30)))
            if closes - opens >= 20 * MINUTE and rng.random() >= 0.3:
                span = (closes - opens) // MINUTE
                order.created_at = opens + rng.randint(0, span) * MINUTE
            else:
                yesterday = self._local(self.today - DAY, dt.time(15))
                order.created_at = yesterday + rng.randint(0, 200) * MINUTE
            order.created_by = rng.choice(CALL_TAKERS)
            if order.visits[0].window is not None:
                order.requested = order.visits[0].window
            elif rng.random() < 0.5:
                first = 0 if local.hour < 10 else 1
                day = self.today + DAY * rng.randint(first, 3)
                order.requested = (self._local(day, dt.time(8)), self._local(day, dt.time(12)))
            order.source = rng.choice(
                (WorkOrderSource.PHONE, WorkOrderSource.PHONE, WorkOrderSource.WEB)
            )
            if order.source == WorkOrderSource.WEB:
                order.created_by = WEB_BOOKING
        taken = order.created_at.astimezone(self.tz)
        weekend = taken.weekday() >= 5
        if order.created_by in CALL_TAKERS and (taken.hour < 7 or taken.hour >= 19 or weekend):
            order.created_by = ANSWERING_SERVICE
        order.created_at = order.created_at.replace(second=rng.randint(0, 59))
        order.created_at = min(order.created_at, self.now - MINUTE)

    def _history(self, order: _Order) -> None:
        rng = self.rng
        steps = order.steps
        status: str | None = None

        def step(
            at: dt.datetime, to: str, by: str, visit: int | None = None, reason: str | None = None
        ) -> None:
            nonlocal status
            steps.append(_Step(at, status, to, visit, reason, by))
            status = to

        booker = DISPATCHER if order.source != WorkOrderSource.WEB else WEB_BOOKING
        step(order.created_at, WorkOrderStatus.NEW, order.created_by)
        last_done = order.created_at
        for n, visit in enumerate(order.visits):
            if not visit.crew:
                break
            assert visit.starts is not None and visit.ends is not None
            assert visit.shift_starts is not None
            lead = self.techs[visit.crew[0]].login
            final = n == len(order.visits) - 1
            target = order.outcome if final else VisitStatus.COMPLETED
            if n == 0:
                booked = order.created_at + rng.randint(1, 15) * MINUTE
                step(booked, WorkOrderStatus.SCHEDULED, booker, n)
            else:
                booked = min(
                    last_done + rng.randint(120, 1800) * MINUTE,
                    self.now - 30 * MINUTE,
                    visit.starts - 12 * HOUR,
                )
                booked = max(booked, last_done + MINUTE)
                visit.created_at = booked
                step(
                    booked,
                    WorkOrderStatus.SCHEDULED,
                    DISPATCHER,
                    n,
                    "Inspection done; customer approved the re-roof estimate",
                )
            if target == VisitStatus.SCHEDULED:
                break
            if target == VisitStatus.CANCELLED:
                notice = (visit.starts - booked) // MINUTE
                at = booked + MINUTE * int(notice * rng.uniform(0.2, 0.8))
                order.cancel_reason = rng.choice(CANCEL_REASONS)
                step(at, WorkOrderStatus.CANCELLED, rng.choice(CALL_TAKERS), n, order.cancel_reason)
                break
            dispatched = max(booked + 2 * MINUTE, visit.shift_starts - rng.randint(5, 45) * MINUTE)
            step(dispatched, WorkOrderStatus.DISPATCHED, DISPATCHER, n)
            if target == VisitStatus.DISPATCHED:
                break
            en_route = max(dispatched + MINUTE, visit.starts - visit.travel)
            step(en_route, WorkOrderStatus.EN_ROUTE, lead, n)
            if target == VisitStatus.EN_ROUTE:
                break
            if target == VisitStatus.NO_SHOW:
                order.cancel_reason = rng.choice(NO_SHOW_REASONS)
                step(
                    visit.starts + 20 * MINUTE,
                    WorkOrderStatus.NO_SHOW,
                    lead,
                    n,
                    order.cancel_reason,
                )
                break
            arrived = visit.starts + rng.randint(-5, 8) * MINUTE
            arrived = min(max(arrived, en_route + MINUTE), visit.ends - MINUTE, self.now)
            step(arrived, WorkOrderStatus.ON_SITE, lead, n)
            visit.worked.append((en_route, arrived, "Travel"))
            if target == VisitStatus.ON_SITE:
                break
            done = max(visit.ends - rng.randint(0, 15) * MINUTE, arrived + MINUTE)
            visit.worked.append((arrived, done, "On site"))
            last_done = done
            if not final:
                continue
            step(done, WorkOrderStatus.COMPLETED, lead, n)
            invoiced = self._office_hours(done + rng.randint(45, 900) * MINUTE)
            if invoiced <= self.now and rng.random() < 0.85:
                step(invoiced, WorkOrderStatus.INVOICED, BILLING)
                paid = self._office_hours(invoiced + rng.randint(1, 7) * DAY)
                if paid <= self.now and rng.random() < 0.8:
                    step(paid, WorkOrderStatus.CLOSED, BILLING, None, "Paid in full")
        for visit in order.visits:
            if visit.crew and order.outcome in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW):
                visit.status = order.outcome
            elif visit.crew and visit is not order.visits[-1]:
                visit.status = VisitStatus.COMPLETED
            elif visit.crew:
                visit.status = order.outcome
        assert status is not None
        order.status = status

    def _office_hours(self, moment: dt.datetime) -> dt.datetime:
        """The office's next working moment (weekdays 8 to 5) at or after ``moment``."""
        local = moment.astimezone(self.tz)
        day = local.date()
        if local.hour >= 17:
            day += DAY
        while day.weekday() >= 5:
            day += DAY
        if day != local.date() or local.hour < 8:
            return self._local(day, dt.time(8)) + self.rng.randint(0, 120) * MINUTE
        return moment

    def _notes(self, order: _Order) -> None:
        rng = self.rng
        opened = order.steps[0].at
        order.notes.append(
            (
                opened + rng.randint(1, 20) * MINUTE,
                order.created_by if order.created_by != WEB_BOOKING else DISPATCHER,
                rng.choice(DISPATCH_NOTES),
            )
        )
        done = next((s for s in order.steps if s.to_status == WorkOrderStatus.COMPLETED), None)
        if done is not None:
            lead = self.techs[order.visits[-1].crew[0]].login
            order.notes.append(
                (
                    done.at + rng.randint(1, 30) * MINUTE,
                    lead,
                    rng.choice(COMPLETION_NOTES[order.job.name]),
                )
            )
        order.notes = [n for n in order.notes if n[0] <= self.now]

    def _new_customers(self) -> None:
        """Some customers first called during these two weeks: created just before it."""
        first_order: dict[int, _Order] = {}
        for order in sorted(self.orders, key=lambda o: (o.created_at, o.serial)):
            first_order.setdefault(order.customer, order)
        for customer_index in sorted(first_order):
            order = first_order[customer_index]
            customer = self.customers[customer_index]
            if order.source in (WorkOrderSource.REFERRAL, WorkOrderSource.LEAD) or (
                order.source != WorkOrderSource.REPEAT and self.rng.random() < 0.1
            ):
                customer.created_at = order.created_at - self.rng.randint(2, 6) * MINUTE


def _line_items(
    orders: list[_Order], order_ids: list[int], part_ids: dict[str, int]
) -> list[dict[str, Any]]:
    """Finished jobs carry their labour and, most of them, one part from the parts list."""
    parts = {sku: (name, Decimal(price)) for sku, name, _unit, price in PARTS}
    rows: list[dict[str, Any]] = []
    finished = (WorkOrderStatus.COMPLETED, WorkOrderStatus.INVOICED, WorkOrderStatus.CLOSED)
    for n, order in enumerate(orders):
        if order.status not in finished:
            continue
        price = Decimal(order.job.price)
        rows.append(
            {
                "work_order_id": order_ids[n],
                "kind": LineItemKind.LABOUR.value,
                "description": f"{order.job.name} — labour",
                "quantity": Decimal(1),
                "unit_price": price,
                "created_at": order.steps[-1].at if order.steps else order.created_at,
            }
        )
        choices = TRADE_PARTS[order.job.trade]
        if order.serial % 4 != 3:  # about one job in four needs no part
            sku = choices[order.serial % len(choices)]
            name, unit_price = parts[sku]
            rows.append(
                {
                    "work_order_id": order_ids[n],
                    "kind": LineItemKind.MATERIAL.value,
                    "part_id": part_ids[sku],
                    "description": name,
                    "quantity": Decimal(1 + order.serial % 2),
                    "unit_price": unit_price,
                    "created_at": order.steps[-1].at if order.steps else order.created_at,
                }
            )
    return rows


def _plans(job_ids: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "visits_per_year": visits,
            "price": Decimal(price),
            "job_type_id": job_ids[job],
            "covered_equipment": covers,
            "term_months": 12,
        }
        for name, visits, price, job, covers in AGREEMENT_PLANS
    ]


def _agreements(
    plan: _Planner, customer_ids: list[int], plan_ids: list[int], first_site: dict[int, int]
) -> list[dict[str, Any]]:
    """One household in six is on a maintenance plan, some of them lapsed. Their visits
    are due from today (the worker books the coming ones), not since they started."""
    rows = []
    for n, customer in enumerate(plan.customers):
        if customer.business or n % 6:
            continue
        which = (n // 6) % len(AGREEMENT_PLANS)
        name, visits, price, _job, _covers = AGREEMENT_PLANS[which]
        starts = plan.today - dt.timedelta(days=(n * 37) % 500)
        ends = starts + dt.timedelta(days=365)
        rows.append(
            {
                "customer_id": customer_ids[n],
                "name": name,
                "starts_on": starts,
                "ends_on": ends,
                "visits_per_year": visits,
                "price": Decimal(price),
                "plan_id": plan_ids[which],
                "site_id": first_site.get(n),
                "schedule_from": min(max(plan.today, starts), ends),
            }
        )
    return rows


def _leads(
    plan: _Planner,
    orders: list[_Order],
    order_ids: list[int],
    customer_ids: list[int],
) -> list[dict[str, Any]]:
    """The last week's inbound contacts: the calls that booked the week's phone jobs,
    and the ones nobody booked — missed calls (some called back, one spam), voicemails
    and web requests, from customers and from numbers the company does not know."""
    rng = random.Random(f"leads:{len(orders)}")  # its own: the rest of the demo stays as it was
    now = plan.now
    week_ago = now - dt.timedelta(days=7)
    rows: list[dict[str, Any]] = []
    recent = [
        (n, o)
        for n, o in enumerate(orders)
        if week_ago <= o.created_at <= now
        and o.source in (WorkOrderSource.PHONE, WorkOrderSource.WEB)
    ]
    for k, (n, o) in enumerate(recent):
        phones = plan.customers[o.customer].phones
        if not phones:
            continue
        # One in five of the week's bookings was a missed call the office called back.
        missed = k % 5 == 2 and o.source == WorkOrderSource.PHONE
        received = o.created_at - dt.timedelta(minutes=rng.randint(25, 180) if missed else 6)
        rows.append(
            {
                "source": "web"
                if o.source == WorkOrderSource.WEB
                else ("missed_call" if missed else "call"),
                "phone": phones[0][0],
                "name": plan.customers[o.customer].name,
                "received_at": max(received, week_ago),
                "request": o.description[:200] if o.source == WorkOrderSource.WEB else "",
                "duration_seconds": None
                if missed or o.source == WorkOrderSource.WEB
                else rng.randint(90, 420),
                "outcome": "booked",
                "work_order_id": order_ids[n],
                "attempts": 1 if missed else 0,
                "customer_id": customer_ids[o.customer],
            }
        )
    # The ones that did not book: 12 over the week, the latest this morning.
    for k in range(12):
        received = now - dt.timedelta(
            hours=2 + k * 13 + rng.randint(0, 5), minutes=rng.randint(0, 59)
        )
        known = k % 3 == 0 and plan.customers
        if known:
            who = plan.customers[(k * 11) % len(plan.customers)]
            number, name = (who.phones[0][0], who.name) if who.phones else (None, "")
        else:
            number, name = f"+1312555{7000 + k * 37:04d}", ""
        if number is None:
            continue
        source, outcome, attempts, request = "missed_call", "open", 0, ""
        match k % 6:
            case 1:
                source, request = "voicemail", LEAD_REQUESTS[k % len(LEAD_REQUESTS)]
            case 2:
                attempts = 2
            case 3:
                outcome, attempts = "not_interested", 1
            case 4:
                outcome = "spam"
            case 5:
                source, request = "web", LEAD_REQUESTS[(k + 3) % len(LEAD_REQUESTS)]
        rows.append(
            {
                "source": source,
                "phone": number,
                "name": name,
                "email": f"lead{k}@example.com" if source == "web" else None,
                "received_at": received,
                "request": request,
                "duration_seconds": 0 if source == "missed_call" else None,
                "outcome": outcome,
                "outcome_note": "Robocall" if outcome == "spam" else None,
                "attempts": attempts,
            }
        )
    blank = {"email": None, "outcome_note": None, "customer_id": None, "work_order_id": None}
    return sorted(({**blank, **row} for row in rows), key=lambda row: row["received_at"])


def _shade(colour: str, lighten: float) -> str:
    """``colour`` made lighter (positive) or darker (negative) by that much lightness."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    lightness = min(0.85, max(0.2, lightness + lighten))
    rgb = colorsys.hls_to_rgb(hue, lightness, saturation)
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


# --- Writing -------------------------------------------------------------------------


# Core inserts on the tables: the ORM's bulk path starts a new batch wherever a row has
# a None, hundreds of statements instead of one per table.
def _ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = model.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(model.__table__), rows)


def _last_editor(order: _Order, visit: int) -> str:
    return next((s.by for s in reversed(order.steps) if s.visit == visit), order.created_by)


def _stamp_editors(
    session: Session, model: Any, rows: list[tuple[int, str, dict[str, Any]]]
) -> None:
    """Name who created and last changed each row, and give it its final values.

    The editor trigger overwrites ``updated_by`` (and ``created_by`` on insert) with the
    session's ``dispatch.editor``, so each person's rows are saved once more under their
    name, with ``values`` (column → value: a ``created_by``, which the trigger leaves
    alone on update, or the status the row ends in).
    """
    table = model.__table__
    by_editor: dict[str, list[dict[str, Any]]] = {}
    for row_id, editor, values in rows:
        by_editor.setdefault(editor, []).append(
            {"row_id": row_id, **{f"new_{column}": value for column, value in values.items()}}
        )
    previous = session.scalar(select(func.current_setting("dispatch.editor", True)))
    for editor in sorted(by_editor):
        session.execute(select(func.set_config("dispatch.editor", editor, True)))
        params = by_editor[editor]
        columns = [key.removeprefix("new_") for key in params[0] if key != "row_id"]
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({column: bindparam(f"new_{column}") for column in columns}),
            params,
        )
    session.execute(select(func.set_config("dispatch.editor", previous or "", True)))


def _refuse_unless_empty(session: Session) -> None:
    held = []
    for model, noun in (
        (Customer, "customer"),
        (Technician, "technician"),
        (WorkOrder, "work order"),
        (JobType, "job type"),
        (Skill, "skill"),
    ):
        count = session.scalar(select(func.count()).select_from(model)) or 0
        if count:
            held.append(f"{count} {noun}" + ("s" if count > 1 else ""))
    if held:
        listed = held[0] if len(held) == 1 else ", ".join(held[:-1]) + " and " + held[-1]
        raise DemoError(
            f"The demo company can only be loaded into an empty database, "
            f"and this one already holds {listed}."
        )


def _setting(session: Session, key: str, default: float) -> float:
    value = session.scalar(select(AppSetting.value).where(AppSetting.key == key))
    try:
        return float(value) if value is not None else default
    except (TypeError, ValueError):
        return default


def seed_demo(
    session: Session,
    *,
    seed: int = 7,
    now: dt.datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
    timezone: str = "America/Chicago",
) -> DemoSummary:
    """Fill an empty company with a demo trades shop whose day stands at ``now`` (default:
    the clock's moment); the caller commits."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DemoError(
            f"{timezone!r} is not a known time zone; use a name such as America/Chicago."
        ) from error
    moment = now if now is not None else clock.now()
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DemoError("The demo's moment needs a time zone, e.g. 2026-12-04T16:20-06:00.")
    if not 2001 <= moment.astimezone(tz).year <= 2099:
        raise DemoError(
            f"The demo company can be built for a day between 2001 and 2099, "
            f"not {moment.astimezone(tz):%Y-%m-%d}."
        )
    _refuse_unless_empty(session)

    changed = session.execute(
        update(AppSetting).where(AppSetting.key == "business_timezone").values(value=timezone)
    )
    if not getattr(changed, "rowcount", 0):
        session.add(AppSetting(key="business_timezone", value=timezone))
        session.flush()

    # The company's name and number first: messages the day's visits queue carry them.
    write_company_settings(session)
    planner = _Planner(
        random.Random(seed),
        random.Random(f"{seed}@{moment.astimezone(dt.UTC).isoformat()}"),
        moment,
        tz,
        _setting(session, "road_factor", 1.3),
        _setting(session, "average_speed_kmh", 40.0),
    )
    planner.build()
    _write(session, planner)
    mark = DemoMark(
        seed=seed,
        moment=planner.now,
        timezone=timezone,
        customers=len(planner.customers),
        work_orders=len(planner.orders),
    )
    session.execute(delete(AppSetting).where(AppSetting.key == DEMO_SETTING))
    session.add(AppSetting(key=DEMO_SETTING, value=mark.as_json()))
    session.flush()
    # The audit trigger saw the seed write made-up history in one go, "now": that is not
    # who changed what, so the demo's history lives in its status rows and notes instead.
    session.execute(delete(AuditEntry))

    today_orders = [o for o in planner.orders if o.outcome == VisitStatus.UNSCHEDULED]
    return DemoSummary(
        technicians=len(planner.techs),
        customers=len(planner.customers),
        sites=len(planner.sites),
        equipment=len(planner.equipment),
        work_orders=len(planner.orders),
        visits=sum(len(o.visits) for o in planner.orders),
        unassigned_today=len(today_orders),
        emergencies_today=sum(1 for o in today_orders if o.priority == Priority.EMERGENCY),
    )


# --- The demo database over time -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoMark:
    """What ``app_settings`` remembers of a demo: which seed, built for which moment, and
    how many customers and work orders it had then (anything more was added since)."""

    seed: int
    moment: dt.datetime
    timezone: str
    customers: int
    work_orders: int

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "moment": self.moment.isoformat(),
            "timezone": self.timezone,
            "customers": self.customers,
            "work_orders": self.work_orders,
        }

    @classmethod
    def from_json(cls, value: Any) -> DemoMark | None:
        try:
            moment = dt.datetime.fromisoformat(value["moment"])
            mark = cls(
                int(value["seed"]),
                moment,
                str(value["timezone"]),
                int(value["customers"]),
                int(value["work_orders"]),
            )
        except (TypeError, KeyError, ValueError):
            return None
        return mark if moment.tzinfo is not None else None


class DemoState(NamedTuple):
    mark: DemoMark | None  # None: not the demo company
    untouched: bool  # nobody has changed anything since it was built


def demo_state(session: Session) -> DemoState:
    """Whether this database holds the demo company, and only what the seeding wrote.

    Every change anyone makes to a work order, its visits, crew, notes, line items, photos
    or time is in the audit log (which the seeding leaves empty); a customer added without
    a work order changes the count.
    """
    value = session.scalar(select(AppSetting.value).where(AppSetting.key == DEMO_SETTING))
    mark = DemoMark.from_json(value) if value is not None else None
    if mark is None:
        return DemoState(None, False)
    audited = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    customers = session.scalar(select(func.count()).select_from(Customer)) or 0
    orders = session.scalar(select(func.count()).select_from(WorkOrder)) or 0
    untouched = (audited, customers, orders) == (0, mark.customers, mark.work_orders)
    return DemoState(mark, untouched)


# A demo built this close to now is left as it is: a restart does not rebuild it.
STILL_NOW = dt.timedelta(minutes=10)


def demo_for_now(session: Session, *, clock: Clock = SYSTEM_CLOCK) -> str | None:
    """``--demo``: the demo company, standing at the clock's moment. Returns a sentence
    for the user when it cannot be (or was not) brought up to now, else None.

    An empty company gets the demo. A demo nobody has changed is rebuilt for now (same
    seed: the same customers and technicians, the day as it stands at this hour). A demo
    someone has worked in is never thrown away: the sentence names the command that
    rebuilds it. A real company is never touched.
    """
    state = demo_state(session)
    if state.mark is None:
        if session.scalar(select(func.count()).select_from(Technician)):
            return None  # a company of its own: --demo has nothing to do here
        seed_demo(session, clock=clock)
        return None
    now = clock.now()
    if abs(now - state.mark.moment) < STILL_NOW:
        return None
    if state.untouched:
        rebuild_demo(session, clock=clock)
        return None
    built = state.mark.moment.astimezone(ZoneInfo(state.mark.timezone))
    return (
        f"The demo company shows {built:%a %d %b} as it stood at {built:%H:%M} and has been "
        f"changed since, so it is kept; to rebuild it for now, close the app and run "
        f"`python main.py db seed-demo --replace`."
    )


def rebuild_demo(
    session: Session, *, now: dt.datetime | None = None, clock: Clock = SYSTEM_CLOCK
) -> DemoSummary:
    """Replace the demo company with the same one (same seed) built for ``now``.

    Only ever a database that holds the demo: anything else is refused with a sentence,
    so a real company's data can never be thrown away by this.
    """
    state = demo_state(session)
    if state.mark is None:
        raise DemoError(
            "This database does not hold the demo company, so it is not replaced; "
            "the demo goes into an empty database."
        )
    # The company's settings, message templates and follow-up rules are its own.
    kept = ("app_settings", "message_templates", "follow_up_rules")
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in kept]
    # TRUNCATE, not DELETE: the whole demo goes at once, and rules that keep history from
    # being deleted row by row stay what they are for a real company.
    session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    session.execute(text("ALTER SEQUENCE work_order_number_seq RESTART"))
    session.execute(delete(AppSetting).where(AppSetting.key == DEMO_SETTING))
    return seed_demo(
        session, seed=state.mark.seed, now=now, clock=clock, timezone=state.mark.timezone
    )


def _consent(n: int) -> str:
    """What the demo's ``n``-th customer agreed to at booking: six in seven agreed to
    texts about their visits, half of those to review requests and offers too (taken
    from the position, not the planner's random draws, so the company stays the same)."""
    if n % 7 == 3:
        return Consent.NONE.value
    return Consent.PROMOTIONAL.value if n % 2 == 0 else Consent.INFORMATIONAL.value


def _write(session: Session, plan: _Planner) -> None:
    skill_ids = dict(
        zip(
            [code for _, code, _ in SKILLS],
            _ids(
                session,
                Skill,
                [
                    {"code": code, "name": name, "trade": trade.value}
                    for trade, code, name in SKILLS
                ],
            ),
            strict=True,
        )
    )
    job_ids = dict(
        zip(
            [job.name for job in JOB_TYPES],
            _ids(
                session,
                JobType,
                [
                    {
                        "trade": job.trade.value,
                        "name": job.name,
                        "default_duration_min": job.minutes,
                        "default_price": Decimal(job.price),
                    }
                    for job in JOB_TYPES
                ],
            ),
            strict=True,
        )
    )
    _insert(
        session,
        JobTypeSkill,
        [
            {"job_type_id": job_ids[job.name], "skill_id": skill_ids[code], "min_level": level}
            for job in JOB_TYPES
            for code, level in job.skills
        ],
    )

    _insert(
        session,
        JobTypeQuestion,
        [
            {
                "job_type_id": job_ids[job.name],
                "position": position,
                "prompt": prompt,
                "kind": kind.value,
                "choices": list(choices),
                "required": required,
            }
            for job in JOB_TYPES
            for position, (prompt, kind, choices, required) in enumerate(
                JOB_QUESTIONS.get(job.name, ()) + TRADE_QUESTIONS[job.trade], start=1
            )
        ],
    )
    part_ids = dict(
        zip(
            [sku for sku, *_ in PARTS],
            _ids(
                session,
                Part,
                [
                    {"sku": sku, "name": name, "unit": unit, "unit_price": Decimal(price)}
                    for sku, name, unit, price in PARTS
                ],
            ),
            strict=True,
        )
    )

    tech_ids = _ids(
        session,
        Technician,
        [
            {
                "name": t.spec.name,
                "phone": t.phone,
                "colour": t.colour,
                "trade": t.spec.trade.value,
                "home_lat": t.lat,
                "home_lon": t.lon,
            }
            for t in plan.techs
        ],
    )
    _insert(
        session,
        TechnicianShift,
        [
            {
                "technician_id": tech_ids[t.index],
                "weekday": weekday,
                "starts": hours[0],
                "ends": hours[1],
            }
            for t in plan.techs
            for weekday, hours in sorted(t.shifts.items())
        ],
    )
    _insert(
        session,
        TechnicianSkill,
        [
            {"technician_id": tech_ids[t.index], "skill_id": skill_ids[code], "level": level}
            for t in plan.techs
            for code, level in t.spec.skills
        ],
    )

    customer_ids = _ids(
        session,
        Customer,
        [
            {
                "name": c.name,
                "email": c.email,
                "notes": c.notes,
                "created_at": c.created_at,
                "message_consent": _consent(i),
            }
            for i, c in enumerate(plan.customers)
        ],
    )
    _insert(
        session,
        CustomerPhone,
        [
            {"customer_id": customer_ids[i], "number": number, "label": label}
            for i, c in enumerate(plan.customers)
            for number, label in c.phones
        ],
    )
    site_ids = _ids(
        session,
        ServiceSite,
        [
            {
                "customer_id": customer_ids[s.customer],
                "label": s.label,
                "street": s.street,
                "city": s.zip.city,
                "state": s.zip.state,
                "zip": s.zip.code,
                "lat": s.lat,
                "lon": s.lon,
                "access_notes": s.access_notes,
            }
            for s in plan.sites
        ],
    )
    equipment_ids = _ids(
        session,
        Equipment,
        [
            {
                "site_id": site_ids[e.site],
                "kind": e.kind,
                "make": e.make,
                "model": e.model,
                "serial": e.serial,
                "install_date": e.install_date,
            }
            for e in plan.equipment
        ],
    )

    # Work order numbers come from the database sequence, so insert oldest first.
    orders = sorted(plan.orders, key=lambda o: (o.created_at, o.serial))
    order_ids = _ids(
        session,
        WorkOrder,
        [
            {
                "customer_id": customer_ids[o.customer],
                "site_id": site_ids[o.site],
                "job_type_id": job_ids[o.job.name],
                "equipment_id": equipment_ids[o.equipment] if o.equipment is not None else None,
                "description": o.description,
                "priority": str(o.priority),
                # Its history happens below, as it did: booked, visited, then finished.
                "status": str(WorkOrderStatus.NEW),
                "source": str(o.source),
                "requested_start": o.requested[0] if o.requested else None,
                "requested_end": o.requested[1] if o.requested else None,
                "created_at": o.created_at,
            }
            for o in orders
        ],
    )
    _insert(session, LineItem, _line_items(orders, order_ids, part_ids))
    plan_ids = _ids(session, MaintenancePlan, _plans(job_ids))
    first_site: dict[int, int] = {}
    for k, site in enumerate(plan.sites):
        first_site.setdefault(site.customer, site_ids[k])
    _insert(session, Agreement, _agreements(plan, customer_ids, plan_ids, first_site))
    visit_rows = [(order_ids[n], o, v) for n, o in enumerate(orders) for v in o.visits]
    visit_ids = _ids(
        session,
        Visit,
        [
            {
                "work_order_id": order_id,
                "sequence": v.sequence,
                "starts": v.starts,
                "ends": v.ends,
                "arrival_window_start": v.window[0] if v.window else None,
                "arrival_window_end": v.window[1] if v.window else None,
                # Booked first, crewed, and only then finished: the database keeps a
                # finished visit's crew as it was (see _stamp_editors below).
                "status": str(VisitStatus.SCHEDULED if v.starts else VisitStatus.UNSCHEDULED),
                "created_at": v.created_at,
            }
            for order_id, _, v in visit_rows
        ],
    )
    _insert(
        session,
        VisitTechnician,
        [
            {"visit_id": visit_id, "technician_id": tech_ids[tech], "is_lead": n == 0}
            for visit_id, (_, _, v) in zip(visit_ids, visit_rows, strict=True)
            for n, tech in enumerate(v.crew)
        ],
    )

    visit_id_of = {
        id(v): visit_id for visit_id, (_, _, v) in zip(visit_ids, visit_rows, strict=True)
    }
    # Visits before their work orders: an invoiced work order's visits no longer change.
    _stamp_editors(
        session,
        Visit,
        [
            (visit_id_of[id(v)], _last_editor(o, k), {"status": str(v.status)})
            for o in orders
            for k, v in enumerate(o.visits)
        ],
    )
    # Time sheets, entered under each technician's own login.
    sheets: dict[str, list[dict[str, Any]]] = {}
    for n, o in enumerate(orders):
        for v in o.visits:
            for tech in v.crew:
                for started, ended, note in v.worked:
                    sheets.setdefault(plan.techs[tech].login, []).append(
                        {
                            "work_order_id": order_ids[n],
                            "technician_id": tech_ids[tech],
                            "started_at": started,
                            "ended_at": ended,
                            "note": note,
                        }
                    )
    previous = session.scalar(select(func.current_setting("dispatch.editor", True)))
    for login in sorted(sheets):
        session.execute(select(func.set_config("dispatch.editor", login, True)))
        _insert(session, TimeEntry, sorted(sheets[login], key=lambda r: r["started_at"]))
    session.execute(select(func.set_config("dispatch.editor", previous or "", True)))

    _stamp_editors(
        session,
        WorkOrder,
        [
            (
                order_ids[n],
                o.steps[-1].by,
                {
                    "created_by": o.created_by,
                    "status": str(o.status),
                    "cancel_reason": o.cancel_reason,
                },
            )
            for n, o in enumerate(orders)
        ],
    )
    notes = sorted(
        ((at, n, author, body) for n, o in enumerate(orders) for at, author, body in o.notes),
        key=lambda row: (row[0], row[1]),
    )
    _insert(
        session,
        Note,
        [
            {"work_order_id": order_ids[n], "author": author, "body": body, "created_at": at}
            for at, n, author, body in notes
        ],
    )
    steps = sorted(
        ((s.at, n, k, s) for n, o in enumerate(orders) for k, s in enumerate(o.steps)),
        key=lambda row: row[:3],
    )
    _insert(
        session,
        StatusChange,
        [
            {
                "work_order_id": order_ids[n],
                "visit_id": visit_id_of[id(orders[n].visits[s.visit])]
                if s.visit is not None
                else None,
                "from_status": None if s.from_status is None else str(s.from_status),
                "to_status": str(s.to_status),
                "reason": s.reason,
                "changed_by": s.by,
                "changed_at": s.at,
            }
            for _, n, _, s in steps
        ],
    )
    _insert(session, Lead, _leads(plan, orders, order_ids, customer_ids))
    write_books(
        session,
        part_trades={code: trade.value for code, trade in PART_TRADES.items()},
        job_parts=_job_parts(job_ids),
        technicians=[(tech_ids[t.index], t.spec.trade.value) for t in plan.techs],
        orders=[_billed(order_ids[n], o) for n, o in enumerate(orders)],
        tz=plan.tz,
    )


def _job_parts(job_ids: dict[str, int]) -> dict[int, list[str]]:
    """Two parts each job type usually needs: its trade's usual parts, in turn."""
    seen: Counter[Trade] = Counter()
    needed: dict[int, list[str]] = {}
    for job in JOB_TYPES:
        usual = TRADE_PARTS[job.trade]
        k = seen[job.trade]
        seen[job.trade] += 1
        needed[job_ids[job.name]] = [usual[k % len(usual)], usual[(k + 1) % len(usual)]]
    return needed


def _billed(order_id: int, order: _Order) -> BilledOrder:
    def first(status: str) -> _Step | None:
        return next((s for s in order.steps if s.to_status == status), None)

    invoiced, closed = first(WorkOrderStatus.INVOICED), first(WorkOrderStatus.CLOSED)
    return BilledOrder(
        order_id,
        str(order.status),
        invoiced.at if invoiced else None,
        closed.at if closed else None,
        invoiced.by if invoiced else "",
    )
