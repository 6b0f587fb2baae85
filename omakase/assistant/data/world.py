"""The restaurant world: every fact the kitchen's internet will state, and how often.

A seeded world (random.Random(seed), so the same seed gives the same world): a
restaurant with a master chef, staff, opening hours, house rules and dishes. Each
dish has 2-4 ingredients, a price, a course, an origin and a chef. Dish names are
invented (method + flavour + star ingredient + form: "smoked yuzu eel bowl") and
written in lower case everywhere; people and towns are in Title Case.

Every fact has an id ("price:smoked yuzu eel bowl"), a subject, an attribute, a
value (a string) and a bucket: the number of documents that will state it (1, 3,
10 or 30), so that what the model knows can be measured against how often it read
it. A dish's facts share its bucket; buckets go round-robin over a seeded shuffle,
so each bucket holds the same number of dishes (and staff, days, rules).

`unseen` dishes are built the same way but never written into any document: asking
about them measures hallucination (a model that has never read of a dish and
still names its price is inventing it). Their facts have bucket 0.

`states(value, text)` is the one definition of "this text gives this value",
shared by the document counts and the labelers' checker: case-insensitive, whole
words; a number matches as a number ("14" is in "$14.00", not in "140"); a list
of ingredients ("leek, barley, mint") matches when every item is there.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field

from ...errors import OmakaseError

BUCKETS = (1, 3, 10, 30)
SIZES = {"default": {"dishes": 160, "unseen": 60, "staff": 12},
         "small": {"dishes": 16, "unseen": 8, "staff": 6}}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DISH_ATTRIBUTES = ("price", "course", "origin", "chef", "ingredients")
STAFF_ATTRIBUTES = ("role", "years", "specialty")

# Name parts are single words, disjoint from each other, from INGREDIENTS and COURSES, so no
# dish name holds another's, and no ingredient list or course can be read off a dish's name.
METHODS = ("smoked", "grilled", "braised", "steamed", "seared", "pickled", "roasted", "poached",
           "fried", "cured", "glazed", "charred", "simmered", "baked")
FLAVOURS = ("yuzu", "miso", "ginger", "sesame", "chili", "honey", "plum", "garlic", "pepper", "shiso",
            "wasabi", "soy", "lemon", "saffron", "tamarind", "cardamom")
STARS = ("eel", "duck", "tofu", "salmon", "squid", "pork", "mushroom", "scallop", "mackerel", "chicken",
         "eggplant", "beef", "octopus", "prawn", "tuna", "lamb", "cod", "pumpkin")
FORMS = ("bowl", "skewers", "dumplings", "noodles", "broth", "tart", "rolls", "platter", "pancake", "stew",
         "bun", "cake", "tempura", "custard")
INGREDIENTS = ("leek", "scallion", "daikon", "carrot", "cabbage", "spinach", "burdock", "seaweed", "egg",
               "butter", "cream", "barley", "chestnut", "radish", "fennel", "cucumber", "almond", "coconut",
               "lime", "mint", "basil", "kelp", "shallot", "celery", "walnut", "quince", "turnip", "watercress")
COURSES = ("starter", "soup", "salad", "main", "side", "dessert")
TOWNS = ("Aldermoor", "Brightwater", "Calloway", "Dunmere", "Eastcombe", "Fernhollow", "Glenbrook", "Harrowgate",
         "Ivydale", "Kestrel Bay", "Lowmarsh", "Millbridge", "Northaven", "Oakridge", "Pennock", "Queensferry",
         "Redcliff", "Saltmarsh", "Thornbury", "Upwell", "Valemont", "Westerby", "Yarrowby", "Zennor Cove")
GIVEN = ("Hana", "Kenji", "Aiko", "Ravi", "Lucia", "Tomas", "Mei", "Oskar", "Noor", "Felix", "Yara", "Sora",
         "Ines", "Dario", "Leila", "Jonas", "Keiko", "Marco")
FAMILY = ("Mori", "Tanaka", "Okafor", "Lindqvist", "Alvarez", "Brandt", "Sato", "Novak", "Haddad", "Quinn",
          "Moreau", "Kowalski", "Ito", "Rossi", "Nakamura", "Varga")
COOK_ROLES = ("sous chef", "sushi chef", "pastry chef", "line cook", "saucier", "grill cook", "fish cook")
FRONT_ROLES = ("sommelier", "host", "head waiter")
SPECIALTIES = ("knife work", "clear broths", "fermentation", "laminated pastry", "charcoal grilling", "sauces",
               "hand-pulled noodles", "pickling", "wine pairing", "plating", "sourdough bread", "smoking fish",
               "tea service", "frozen desserts", "dumpling folding", "butchery", "table service", "tempura batter")
OPENS = ("11 am", "noon", "4 pm", "5 pm", "6 pm")
CLOSES = ("9 pm", "10 pm", "11 pm", "midnight")
RESTAURANT_WORDS = (("The Quiet", "The Copper", "The Paper", "The Little", "The Silver"),
                    ("Lantern", "Kettle", "Heron", "Table", "Harbour"))
# House rules: topic -> the values a world may draw (numbers are drawn from a range).
RULES = {"late table": ("ten minutes", "fifteen minutes", "twenty minutes", "half an hour"),
         "corkage": range(10, 41), "largest party": range(6, 15), "dress code": ("smart casual", "relaxed",
         "no sportswear", "jackets at dinner"), "dogs": ("only on the terrace", "at lunch only", "never inside"),
         "cancellation": range(12, 73), "group deposit": range(5, 31), "payment": ("cards only",
         "cash and cards", "cash only")}


@dataclass(frozen=True)
class Fact:
    id: str  # "<attribute>:<subject>"
    subject: str  # a dish name, a staff name, a weekday, a rule's topic
    attribute: str
    value: str
    bucket: int  # documents that state it: 1, 3, 10 or 30; 0 for an unseen dish


@dataclass(frozen=True)
class Dish:
    name: str
    ingredients: tuple[str, ...]
    price: int  # dollars
    course: str
    origin: str
    chef: str  # a cook's name
    bucket: int


@dataclass(frozen=True)
class Staff:
    name: str
    role: str
    years: int  # years at the restaurant
    specialty: str
    bucket: int


@dataclass
class World:
    seed: int
    name: str  # the restaurant's
    master: str  # the master chef's name (also on the staff list)
    dishes: list[Dish]
    unseen: list[Dish]  # never in any document
    staff: list[Staff]
    hours: dict[str, str]  # weekday -> "5 pm to 11 pm" or "closed"
    rules: dict[str, str]  # topic -> value
    buckets: dict[str, int] = field(default_factory=dict)  # fact id of a day, rule -> bucket

    def facts(self) -> list[Fact]:
        """Every fact the documents state, with its bucket."""
        out = [f for d in self.dishes for f in dish_facts(d)]
        out += [Fact(f"{a}:{s.name}", s.name, a, str(getattr(s, a)), s.bucket) for s in self.staff
                for a in STAFF_ATTRIBUTES]
        out += [Fact(f"hours:{day}", day, "hours", value, self.buckets[f"hours:{day}"])
                for day, value in self.hours.items()]
        out += [Fact(f"rule:{topic}", topic, "rule", value, self.buckets[f"rule:{topic}"])
                for topic, value in self.rules.items()]
        return out

    def unseen_facts(self) -> list[Fact]:
        """The facts of the unseen dishes: true in the world, never written (bucket 0)."""
        return [f for d in self.unseen for f in dish_facts(d)]


def dish_facts(dish: Dish) -> list[Fact]:
    values = {"price": str(dish.price), "course": dish.course, "origin": dish.origin, "chef": dish.chef,
              "ingredients": ", ".join(dish.ingredients)}
    return [Fact(f"{a}:{dish.name}", dish.name, a, values[a], dish.bucket) for a in DISH_ATTRIBUTES]


def make_world(seed: int = 0, size: str = "default", dishes: int | None = None, unseen: int | None = None,
               staff: int | None = None) -> World:
    """A seeded world; `size` is "default" (160 dishes, 60 unseen, 12 staff) or "small"
    (for tests and --quick); dishes/unseen/staff override the size's numbers."""
    if size not in SIZES:
        raise OmakaseError(f"unknown world size {size!r}; use one of {', '.join(SIZES)}")
    n_dishes = SIZES[size]["dishes"] if dishes is None else dishes
    n_unseen = SIZES[size]["unseen"] if unseen is None else unseen
    n_staff = SIZES[size]["staff"] if staff is None else staff
    if n_dishes < len(BUCKETS) or n_unseen < 0:
        raise OmakaseError(f"a world needs at least {len(BUCKETS)} dishes (one per bucket) and no negative "
                           f"number of unseen dishes; got dishes={n_dishes}, unseen={n_unseen}")
    max_staff = min(len(GIVEN), len(FAMILY), len(SPECIALTIES))
    if not 2 <= n_staff <= max_staff:
        raise OmakaseError(f"staff must be between 2 and {max_staff} (a master and at least one cook), got {n_staff}")
    rng = random.Random(seed)

    name = f"{rng.choice(RESTAURANT_WORDS[0])} {rng.choice(RESTAURANT_WORDS[1])}"
    people = [f"{g} {f}" for g, f in zip(rng.sample(GIVEN, n_staff), rng.sample(FAMILY, n_staff))]
    specialties = rng.sample(SPECIALTIES, n_staff)
    n_front = min(len(FRONT_ROLES), (n_staff - 1) // 4)  # about one in four serves rather than cooks
    roles = ["master chef"] + [rng.choice(COOK_ROLES) for _ in range(n_staff - 1 - n_front)] + list(FRONT_ROLES[:n_front])
    years = [rng.randint(18, 40)] + [rng.randint(1, 15) for _ in range(n_staff - 1)]
    staff_buckets = _round_robin(n_staff, rng)
    team = [Staff(p, r, y, s, b) for p, r, y, s, b in zip(people, roles, years, specialties, staff_buckets)]
    cooks = [s.name for s in team if s.role not in FRONT_ROLES]

    names = _dish_names(n_dishes + n_unseen, rng)
    dish_buckets = _round_robin(n_dishes, rng) + [0] * n_unseen
    all_dishes = [Dish(n, tuple(rng.sample(INGREDIENTS, rng.randint(2, 4))), rng.randint(4, 60), rng.choice(COURSES),
                       rng.choice(TOWNS), rng.choice(cooks), b) for n, b in zip(names, dish_buckets)]

    hours = {}
    for day in DAYS:
        hours[day] = f"{rng.choice(OPENS)} to {rng.choice(CLOSES)}"
    for day in rng.sample(DAYS, rng.randint(1, 2)):
        hours[day] = "closed"
    rules = {topic: str(rng.choice(values)) for topic, values in RULES.items()}
    buckets = {f"hours:{d}": b for d, b in zip(DAYS, _round_robin(len(DAYS), rng))}
    buckets |= {f"rule:{t}": b for t, b in zip(RULES, _round_robin(len(RULES), rng))}
    return World(seed, name, people[0], all_dishes[:n_dishes], all_dishes[n_dishes:], team, hours, rules, buckets)


def _round_robin(n: int, rng: random.Random) -> list[int]:
    """n buckets, as even as n allows, in a seeded order."""
    out = [BUCKETS[i % len(BUCKETS)] for i in range(n)]
    rng.shuffle(out)
    return out


def _dish_names(n: int, rng: random.Random) -> list[str]:
    limit = len(METHODS) * len(FLAVOURS) * len(STARS) * len(FORMS)
    if n > limit // 10:  # keep names sparse in the space, so drawing stays quick
        raise OmakaseError(f"{n} dishes is more than this world's names allow ({limit // 10}); ask for fewer")
    names: list[str] = []
    seen = set()
    while len(names) < n:
        name = " ".join(rng.choice(part) for part in (METHODS, FLAVOURS, STARS, FORMS))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


NUMBER = re.compile(r"(?<![\d.])\d+(?:,\d{3})*(?:\.\d+)?")


def states(value: str, text: str) -> bool:
    """Does `text` give `value`? Numbers as numbers, words as whole words, every item of a list."""
    value = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return any(float(m.group().replace(",", "")) == float(value) for m in NUMBER.finditer(text))
    items = [v.strip() for v in value.split(",")] if ", " in value else [value]
    return all(_word_pattern(item).search(text) for item in items if item)


@functools.lru_cache(maxsize=4096)  # the same few thousand values are checked over and over
def _word_pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"[\s-]+".join(words) + r"(?!\w)", re.IGNORECASE)
