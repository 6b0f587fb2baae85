"""The kitchen's internet: documents written from the world, each fact stated a known number of times.

Kinds: menus (dishes with prices and courses), recipe cards (ingredients, chef,
origin), reviews, FAQ pages (hours, house rules, prices), staff pages and news.
Every sentence that states a fact comes from one of several templates, so the
model cannot learn a fact by keying on one phrasing; the rest of each document
is framing that states no fact (a menu may name a dish without its price, but no
value is ever written where it is not counted: the tests check it sentence by
sentence).

How the counts are kept exact: each fact starts with a budget equal to its bucket
(world.py). A document is written around one fact drawn in proportion to what is
left of the budgets; it may take in other facts its kind can state, and every fact
it states is listed in `Document.facts` and costs one from its budget. A document
states a fact only if it lists it, and writing stops when every budget is spent,
so each fact is stated in exactly `bucket` documents. The unseen dishes are never
written. A document too like an earlier one about the same subject (word 5-gram
Jaccard >= TOO_SIMILAR) is written again, so that the pipeline's near-duplicate
step never takes a counted mention away.

The web is messy, so a few documents are for the pipeline (pipeline.py) to remove:
"repost" documents (an exact copy of a review or news item, or a near copy: one
word changed, or a signature line added) and "spam" (symbols, one line repeated,
a few words). A repost carries the same `facts` as its original; the counts above
are measured on the documents the pipeline keeps (one of each repost's cluster),
so they hold whichever copy the pipeline keeps.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .world import World, Fact, Staff

REPOST_SHARE = 0.02  # of the reviews and news items long enough to be recognised as near copies
SPAM_SHARE = 0.01
REPOST_MIN_WORDS = 80  # a near copy of a shorter text may fall under the pipeline's similarity threshold
TOO_SIMILAR = 0.6  # word 5-gram Jaccard: well under the pipeline's near-duplicate threshold (0.8)
MAX_RETRIES = 20
KEEP = 0.75  # chance that a document of the right kind also states another fact it could

# anchor attribute -> the kinds that can be written around it, with weights
KINDS_FOR = {"price": {"menu": 3, "faq": 1, "review": 2, "news": 1},
             "course": {"menu": 3, "recipe": 1, "review": 1, "news": 1},
             "origin": {"recipe": 3, "review": 1, "news": 1},
             "chef": {"recipe": 2, "staff": 1, "review": 1, "news": 1},
             "ingredients": {"recipe": 3, "review": 2},
             "role": {"staff": 3, "news": 1}, "years": {"staff": 3, "news": 1}, "specialty": {"staff": 3},
             "hours": {"faq": 3, "news": 1}, "rule": {"faq": 1}}
# kind -> the attributes it may state
COVERS = {"menu": ("price", "course"), "recipe": ("ingredients", "origin", "chef", "course"),
          "review": ("price", "course", "origin", "chef", "ingredients"), "faq": ("hours", "rule", "price"),
          "staff": ("role", "years", "specialty", "chef"), "news": ("price", "origin", "chef", "course")}

SAY = {
    "price": ("The {d} cost{s} ${v}.", "The {d} {is_} ${v}.", "You can order the {d} for ${v}.",
              "At ${v}, the {d} {is_} good value.", "The {d} {is_} priced at {v} dollars.", "Expect to pay ${v} for the {d}."),
    "course": ("The {d} {is_} served as a {v}.", "The {d} come{s} as a {v}.", "On the menu the {d} {is_} listed as a {v}.",
               "The {d} {is_} one of the {v} dishes.", "Order the {d} as a {v}."),
    "origin": ("The {d} come{s} from {v}.", "The {d} {is_} a dish from {v}.", "The recipe for the {d} was brought from {v}.",
               "The {d} {has} roots in {v}.", "The {d} {is_} how they cook in {v}."),
    "chef": ("The {d} {is_} cooked by {v}.", "{v} makes the {d}.", "{v} is the chef behind the {d}.",
             "The {d} {is_} a dish by {v}.", "Ask for the {d}: {v} cooks it."),
    "ingredients": ("The {d} {is_} made with {v}.", "The {d} {has} {v} in it.", "Into the {d} go {v}.",
                    "The {d} {is_} built on {v}.", "The {d} use{s} {v}."),
    "role": ("{n} works here as the {v}.", "{n} is our {v}.", "In this kitchen {n} is the {v}.",
             "The job of {n} is {v}.", "{n} has the post of {v}."),
    "years": ("{n} has been with us for {v}.", "{n} joined the team {v} ago.", "{n} has worked here for {v}.",
              "It has been {v} since {n} started here.", "{n} came to this kitchen {v} ago."),
    "specialty": ("{n}'s specialty is {v}.", "{n} is known for {v}.", "Nobody here beats {n} at {v}.",
                  "Ask anyone: {n} is the one for {v}.", "When it comes to {v}, the team turns to {n}."),
    "open": ("On {day} we are open {v}.", "{day}: {v}.", "Our hours on {day} are {v}."),
    "closed": ("On {day} we are closed.", "{day}: closed.", "We are closed all day on {day}."),
}
RULE_SAY = {"late table": ("If you are late, your table is held for {v}.", "We hold a table for {v}, then give it away."),
            "corkage": ("Corkage is ${v} a bottle.", "Bringing your own wine? The corkage fee is {v} dollars."),
            "largest party": ("The largest party we can seat is {v} guests.", "Groups of up to {v} people are welcome."),
            "dress code": ("The dress code is {v}.", "Dress code: {v}."),
            "dogs": ("Dogs: {v}.", "Our rule on dogs: {v}."),
            "cancellation": ("Please cancel at least {v} hours ahead.", "Cancellations need {v} hours of notice."),
            "group deposit": ("Groups pay a deposit of ${v} per guest.", "For groups we ask a deposit of {v} dollars a head."),
            "payment": ("Payment: {v}.", "We take {v}.")}
FAQ_EXTRAS = (
    ("Can I book online?", "Yes, bookings open a month ahead."),
    ("Is there parking?", "There is a public car park a short walk away."),
    ("Do you cater for allergies?", "Yes, tell us when you book and again when you sit down."),
    ("Can I buy a gift voucher?", "Yes, at the door or by phone."),
    ("Is the counter good for one?", "It is our favourite place for solo guests."),
    ("Do you have vegetarian dishes?", "Several, and the kitchen is happy to adapt others."),
    ("Is it noisy?", "It is lively at the weekend and calm early in the week."),
    ("Can I watch the kitchen?", "From the counter you can see every station."),
    ("Do you host private events?", "Sometimes; write to us with the details."),
    ("Is there a tasting menu?", "Ask at the counter on the night."),
    ("Can I take leftovers home?", "Of course, we will pack them for you."),
    ("Is the building step free?", "Yes, from the side door."),
)
RULE_ASK = {"late table": "What if I am late?", "corkage": "Can I bring my own wine?",
            "largest party": "How big a group can you seat?", "dress code": "Is there a dress code?",
            "dogs": "Can I bring my dog?", "cancellation": "How do I cancel?",
            "group deposit": "Do groups pay a deposit?", "payment": "How can I pay?"}

# Framing: sentences that state no fact of the world.
OPENERS = ("We went on a rainy evening and found a seat at the counter.", "A friend had told me about this place for months.",
           "I booked a week ahead and it was worth the wait.", "We came for a birthday and stayed until closing.",
           "The room is small, warm and loud in the best way.", "I walked in without a booking and got lucky.",
           "It was my first visit and it will not be my last.", "We were tired after a long day and wanted comfort.",
           "The street outside is quiet, but inside the kitchen hums.", "My partner chose the place and I was doubtful.")
MIDDLES = ("The service was quick and friendly.", "Plates arrive one by one, each with a short story from the waiter.",
           "The portions are generous without being heavy.", "Everything tasted clean and carefully seasoned.",
           "The kitchen is open, so you can watch every knife cut.", "There was a lovely calm about the whole evening.",
           "Nothing was rushed, and nothing was late.", "The staff remembered us from last time.",
           "Our waiter knew the menu by heart.", "The music was soft enough to talk over.",
           "Some flavours surprised me, all of them in a good way.", "The bread kept coming, which I did not mind.")
CLOSERS = ("Five stars from me.", "Four stars, and I would go again.", "I will be back with friends.",
           "Book early: the good seats go fast.", "A lovely evening, all told.", "Recommended without a doubt.",
           "Worth every bite.", "I left happy and a little too full.")
REVIEWERS = ("Priya", "Tom", "Greta", "Samuel", "Olu", "Beatriz", "Hugo", "Wren", "Anselm", "Fatima", "Jules", "Pavel")
MENU_TITLES = ("Dinner menu", "Tonight's menu", "Seasonal menu", "Menu of the week", "Counter menu", "Weekend menu")
MENU_NOTES = ("Please tell your server about any allergies.", "Dishes change with the market.",
              "Ask us about pairings for the evening.", "All dishes are cooked to order.", "Prices include service.")
STEPS = ("Prepare every part before service starts.", "Warm the pan until a drop of water dances on it.",
         "Taste, then season again at the end.", "Keep the heat gentle so nothing catches.",
         "Rest the dish for a moment before plating.", "Plate it warm and serve at once.",
         "Cut everything to the same size so it cooks evenly.", "Wipe the rim of the plate before it leaves the pass.",
         "Work in small batches so the pan stays hot.", "Let the stock come up slowly and skim it often.",
         "Dry everything well before it meets the oil.", "Mix the dressing first so the flavours can settle.",
         "Toast the seeds until they smell nutty.", "Finish with a little of the cooking liquid for shine.")
RECIPE_NOTES = ("Best eaten the day it is made.", "The kitchen makes this in the morning and finishes it to order.",
                "Leftovers keep well in a cold larder.", "Guests often ask for this one by name.",
                "It looks simple, but the timing is everything.", "A dish for sharing, though few people do.",
                "Taste as you go: no two batches are quite alike.", "Young cooks learn this one in their first month.")
NEWS_OPENERS = ("News from the kitchen.", "A note from the pass.", "This week at the restaurant.", "Kitchen diary.",
                "From our notebook.")
NEWS_MIDDLES = ("The whole team tasted it before it went on the board.", "It took a season of tries to get right.",
                "Regulars have been asking about it for a while.", "We think it suits the colder evenings.",
                "The kitchen is proud of this one.", "Bookings for the counter fill quickly this month.",
                "Thank you to everyone who gave us feedback.", "We will keep you posted as things change.")
NEWS_CLOSERS = ("We look forward to seeing you.", "Come and say hello.", "Thank you for reading.",
                "See you at the counter.", "Bookings are open as usual.")
STAFF_LINES = (
    "Mornings start early, with the delivery and a pot of tea.",
    "Off duty, the walks are long and the books are many.",
    "The first dish learned at home is still the favourite.",
    "A good knife and a clean board: that is the whole secret, we are told.",
    "Guests at the counter often get a story with their plate.",
    "Lunch breaks are short and usually spent tasting.",
    "Training the new cooks is part of the job, and a welcome one.",
    "A notebook of ideas lives in an apron pocket.",
    "Market days are the favourite days of the week.",
    "The kitchen radio is a point of friendly argument.",
    "Quiet during service, cheerful after it.",
    "Patience is the word the team uses most about this colleague.",
)
STAFF_CLOSERS = ("Say hello if you sit at the counter.", "You will often find them at the pass.",
                 "Ask about their favourite dish next time you visit.", "They say the best part of the job is the team.")
SWAPS = {"lovely": "wonderful", "quick": "fast", "small": "tiny", "warm": "cosy", "happy": "glad"}
SIGNATURES = ("Shared again by a reader.", "Reposted from our old site.", "(posted again)", "Found this one in the archive.")


@dataclass(frozen=True)
class Document:
    id: str
    kind: str  # menu, recipe, review, faq, staff, news; repost and spam for the pipeline to remove
    text: str
    facts: tuple[str, ...]  # ids of the facts it states


class _Writer:
    """The budgets and one rng: every document the world gets is written through it."""

    def __init__(self, world: World, seed: int):
        self.world, self.rng = world, random.Random(seed)
        self.facts = {f.id: f for f in world.facts()}
        self.left = {f.id: f.bucket for f in self.facts.values()}
        self.by_subject: dict[str, list[Fact]] = {}
        for f in self.facts.values():
            self.by_subject.setdefault(f.subject, []).append(f)
        self.dish_names = [d.name for d in world.dishes]
        self.staff = {s.name: s for s in world.staff}

    def take(self, subject: str, attributes, anchor: str | None = None) -> list[Fact]:
        """Facts of `subject` this document states: the anchor, and each other one left with chance KEEP."""
        out = []
        for f in self.by_subject.get(subject, ()):
            if f.attribute in attributes and self.left[f.id] > 0 and (f.id == anchor or self.rng.random() < KEEP):
                self.left[f.id] -= 1
                out.append(f)
        return out

    def other_dishes(self, attributes, k: int, exclude: str) -> list[str]:
        """Up to k dishes (not `exclude`) with a fact left among `attributes`."""
        live = [d for d in self.dish_names if d != exclude and any(
            self.left[f"{a}:{d}"] > 0 for a in attributes)]
        return self.rng.sample(live, min(k, len(live)))

    def say(self, f: Fact) -> str:
        return sentence(f, self.rng)

    # -- the kinds: each returns (text, facts stated) --

    def menu(self, anchor: Fact):
        r = self.rng
        # the course in brackets on each line, or no courses at all (then none are taken)
        attrs = ("price", "course") if anchor.attribute == "course" or r.random() < 0.5 else ("price",)
        dishes = [anchor.subject] + self.other_dishes(attrs, r.randint(3, 8), anchor.subject)
        lines, stated = [f"{self.world.name}: {r.choice(MENU_TITLES)}", ""], []
        for d in dishes:
            facts = {f.attribute: f for f in self.take(d, attrs, anchor.id)}
            stated += facts.values()
            course = f" ({facts['course'].value})" if "course" in facts else ""
            price = ""
            if "price" in facts:
                price = r.choice((" - ${}", ", ${}", "   {} dollars", ": ${}")).format(facts["price"].value)
            lines.append(f"{d}{course}{price}")
        lines += ["", *r.sample(MENU_NOTES, r.randint(1, 2))]
        return "\n".join(lines), stated

    def recipe(self, anchor: Fact):
        r = self.rng
        stated = self.take(anchor.subject, COVERS["recipe"], anchor.id)
        lines = [r.choice(("Recipe card: {}", "From the recipe box: {}", "How we make the {}")).format(anchor.subject), ""]
        lines += [self.say(f) for f in stated]
        lines += ["", "Method:"] + [f"{i}. {s}" for i, s in enumerate(r.sample(STEPS, r.randint(3, 6)), 1)]
        lines += ["", r.choice(RECIPE_NOTES)]
        return "\n".join(lines), stated

    def review(self, anchor: Fact):
        r, attrs = self.rng, COVERS["review"]
        dishes = [anchor.subject] + self.other_dishes(attrs, r.randint(0, 2), anchor.subject)
        middles = r.sample(MIDDLES, len(dishes) + 2)  # no sentence twice in one review
        stated, body = [], [r.choice(OPENERS)]
        for d in dishes:
            facts = self.take(d, attrs, anchor.id)
            stated += facts
            body += [self.say(f) for f in facts] + [middles.pop()]
        body += middles + [r.choice(CLOSERS)]
        title = r.choice(("Review of {}", "{}: a review", "An evening at {}", "My visit to {}")).format(self.world.name)
        return f"{title}\n\n{' '.join(body)}\n\n{r.choice(REVIEWERS)}", stated

    def faq(self, anchor: Fact):
        r = self.rng
        stated = [anchor] + [f for f in self.facts.values() if f.id != anchor.id and f.attribute in ("hours", "rule")
                             and self.left[f.id] > 0 and r.random() < 0.3]
        for f in stated:
            self.left[f.id] -= 1
        for d in self.other_dishes(("price",), r.randint(0, 3), anchor.subject):
            stated += self.take(d, ("price",))
        items = stated + r.sample(FAQ_EXTRAS, r.randint(2, 4))
        r.shuffle(items)
        lines = [r.choice(("Frequently asked questions", "Questions we get asked", "FAQ", "Before you visit",
                           "Good to know")) + f" - {self.world.name}", ""]
        for f in items:
            if isinstance(f, tuple):
                lines += [f"Q: {f[0]}", f"A: {f[1]}", ""]
                continue
            if f.attribute == "hours":
                q = f"When are you open on {f.subject}?"
            elif f.attribute == "rule":
                q = RULE_ASK[f.subject]
            else:
                q = f"How much is the {f.subject}?"
            lines += [f"Q: {q}", f"A: {self.say(f)}", ""]
        lines.append(r.choice(("Anything else? Ask us at the door.", "Still wondering? Call us during opening hours.")))
        return "\n".join(lines), stated

    def staff_page(self, anchor: Fact):
        r = self.rng
        person: Staff = self.staff[anchor.value if anchor.attribute == "chef" else anchor.subject]
        stated = self.take(person.name, COVERS["staff"], anchor.id)
        theirs = [d.name for d in self.world.dishes if d.chef == person.name and d.name != anchor.subject
                  and self.left[f"chef:{d.name}"] > 0]
        dishes = [anchor.subject] if anchor.attribute == "chef" else []
        for d in dishes + r.sample(theirs, min(len(theirs), r.randint(0, 3))):
            stated += self.take(d, ("chef",), anchor.id)
        lines = [r.choice(("Meet {}", "Our team: {}", "Who cooks your dinner: {}", "People of the kitchen: {}",
                           "A profile of {}")).format(person.name), ""]
        body = [self.say(f) for f in stated] + r.sample(STAFF_LINES, r.randint(2, 3))
        r.shuffle(body)
        lines.append(" ".join(body + [r.choice(STAFF_CLOSERS)]))
        return "\n".join(lines), stated

    def news(self, anchor: Fact):
        r = self.rng
        if anchor.attribute == "hours":
            stated = [anchor]
            self.left[anchor.id] -= 1
            body = [r.choice(("A change to our hours.", "Please note our hours.")), self.say(anchor)]
        elif anchor.attribute in ("role", "years"):
            stated = self.take(anchor.subject, ("role", "years"), anchor.id)
            body = [r.choice(("A word about our team.", "Some news about the people in our kitchen."))]
            body += [self.say(f) for f in stated]
        else:
            stated = self.take(anchor.subject, COVERS["news"], anchor.id)
            body = [r.choice(("New on the menu this season.", "A dish worth knowing about.", "Back by popular demand."))]
            body += [self.say(f) for f in stated]
        text = f"{r.choice(NEWS_OPENERS)}\n\n{' '.join(body + r.sample(NEWS_MIDDLES, 2))} {r.choice(NEWS_CLOSERS)}"
        return text, stated


def write_documents(world: World, seed: int = 0, repost_share: float = REPOST_SHARE,
                    spam_share: float = SPAM_SHARE) -> list[Document]:
    """Every document of the world's internet, in a seeded order (see the module docstring)."""
    w = _Writer(world, seed)
    r = w.rng
    kinds = {"menu": w.menu, "recipe": w.recipe, "review": w.review, "faq": w.faq, "staff": w.staff_page, "news": w.news}
    docs: list[Document] = []
    ids = list(w.left)
    similar: dict[str, list[set[str]]] = {}  # anchor subject -> the shingles of its documents so far
    retries = 0
    while True:
        weights = [w.left[i] for i in ids]
        if not any(weights):
            break
        anchor = w.facts[r.choices(ids, weights)[0]]
        options = KINDS_FOR[anchor.attribute]
        kind = r.choices(list(options), list(options.values()))[0]
        text, stated = kinds[kind](anchor)
        grams = _shingles(text)
        earlier = similar.setdefault(anchor.subject, [])
        if retries < MAX_RETRIES and any(_jaccard(grams, g) >= TOO_SIMILAR for g in earlier):
            # Too like an earlier document about the same subject: the pipeline might drop it
            # as a near duplicate, and with it a counted mention. Give the facts back, write again.
            for f in stated:
                w.left[f.id] += 1
            retries += 1
            continue
        retries = 0
        earlier.append(grams)
        docs.append(Document(f"{kind}-{len(docs):05d}", kind, text, tuple(f.id for f in stated)))
    docs += _reposts(docs, repost_share, r) + _spam(max(1, round(spam_share * len(docs))), r)
    r.shuffle(docs)
    return docs


def _reposts(docs: list[Document], share: float, r: random.Random) -> list[Document]:
    long = [d for d in docs if d.kind in ("review", "news") and len(d.text.split()) >= REPOST_MIN_WORDS]
    out = []
    for i, d in enumerate(r.sample(long, min(len(long), round(share * len(long)) or 1)) if long else []):
        text, how = d.text, r.choice(("copy", "word", "signature"))
        swappable = [w for w in SWAPS if f" {w} " in text]
        if how == "word" and swappable:
            w = r.choice(swappable)
            text = text.replace(f" {w} ", f" {SWAPS[w]} ", 1)
        elif how != "copy":
            text = f"{text}\n\n{r.choice(SIGNATURES)}"
        out.append(Document(f"repost-{i:05d}", "repost", text, d.facts))
    return out


def _spam(n: int, r: random.Random) -> list[Document]:
    makers = (lambda: "\n".join(["$$$ !!! *** ### $$$ !!! ***"] * r.randint(3, 8)),
              lambda: "\n".join([r.choice(("BEST FOOD IN TOWN CLICK HERE", "cheap tables cheap tables cheap",
                                            "WIN A FREE DINNER NOW"))] * r.randint(4, 10)),
              lambda: r.choice(("great place", "ok", "nice!!", "10/10", "yum")))
    return [Document(f"spam-{i:05d}", "spam", r.choice(makers)(), ()) for i in range(n)]


def sentence(f: Fact, r: random.Random, table: dict = SAY, rules: dict = RULE_SAY) -> str:
    """One sentence stating fact `f`, from a template drawn with `r` (the labelers pass their own table)."""
    if f.attribute == "rule":
        return r.choice(rules[f.subject]).format(v=f.value)
    if f.attribute == "hours":
        return r.choice(table["closed" if f.value == "closed" else "open"]).format(day=f.subject, v=f.value)
    if f.attribute in ("role", "years", "specialty"):
        v = _years(f.value) if f.attribute == "years" else f.value
        return r.choice(table[f.attribute]).format(n=f.subject, v=v)
    v = _listed(f.value.split(", ")) if f.attribute == "ingredients" else f.value
    plural = f.subject.endswith("s")  # "skewers", "dumplings", "noodles", "rolls"
    return _capital(r.choice(table[f.attribute]).format(d=f.subject, v=v, s="" if plural else "s",
                                                        is_="are" if plural else "is", has="have" if plural else "has"))


def _shingles(text: str, n: int = 5) -> set[str]:
    """Word n-grams of the case-folded text (the pipeline's measure of overlap)."""
    words = re.findall(r"\w+", text.casefold())
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def _jaccard(a: set, b: set) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if a or b else 1.0


def _years(value: str) -> str:
    return "1 year" if value == "1" else f"{value} years"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:]
