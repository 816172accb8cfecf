"""Which words name which COCO category: our own synonym list for the object-mention matcher.

The list is written for checking answers against COCO's labels, so it is conservative on purpose:
a word is listed only when, in a COCO-style photo, it names that category and nothing else. A word
we leave out costs recall (a real mention goes uncounted); a wrong word would flag a hallucination
that is not one, which is worse. So "table" → dining table (COCO labels every table so), "monitor" →
tv (COCO's rule for screens), "phone" → cell phone; but "glass", "computer", "desk" and "bat" (the
animal or the club?) are not listed.

Each entry is a singular phrase; its plural is made by `plural()` unless written as
"singular/plural". Multi-word phrases ("hot dog", "teddy bear") are matched longest first, so
"hot dog" never counts as a dog. `MODIFIER_USES` lists two-word phrases in which a category word
only describes something else ("bus stop", "dog bed", "orange shirt"): those are not mentions.
"""

from __future__ import annotations

from datagen.tasks.grounded.nouns import COCO_CATEGORIES

# One-word entries of the two longest lists, space-separated.
_PERSON_WORDS = (
    "person/people persons man/men woman/women boy girl child/children kid baby/babies "
    "toddler teenager teen adult lady/ladies gentleman/gentlemen guy player skier snowboarder "
    "surfer skateboarder rider cyclist biker pedestrian passenger spectator tourist worker "
    "chef waiter waitress officer policeman/policemen policewoman/policewomen soldier catcher "
    "umpire referee athlete student crowd friend customer vendor farmer driver "
    "businessman/businessmen mother father daughter grandmother grandfather infant"
)
_BIRD_WORDS = (
    "bird seagull gull pigeon duck goose/geese swan parrot crow sparrow eagle hawk owl "
    "chicken hen rooster pelican flamingo"
)

SYNONYMS: dict[str, list[str]] = {
    "person": _PERSON_WORDS.split(),
    "bicycle": ["bicycle", "bike", "mountain bike", "road bike"],
    "car": ["car", "automobile", "sedan", "taxi", "cab", "suv", "jeep", "minivan", "convertible"],
    "motorcycle": ["motorcycle", "motorbike", "motor bike", "scooter", "moped", "dirt bike"],
    "airplane": ["airplane", "plane", "aeroplane", "air plane", "jet", "airliner", "aircraft/aircraft"],
    "bus": ["bus/buses", "busses", "double decker", "double-decker"],
    "train": ["train", "locomotive", "tram", "streetcar", "subway train"],
    "truck": ["truck", "lorry/lorries", "pickup truck", "fire truck", "tow truck", "semi truck"],
    "boat": ["boat", "ship", "sailboat", "yacht", "canoe", "kayak", "ferry/ferries", "rowboat"],
    "traffic light": ["traffic light", "stop light", "stoplight", "traffic signal"],
    "fire hydrant": ["fire hydrant", "hydrant"],
    "stop sign": ["stop sign"],
    "parking meter": ["parking meter"],
    "bench": ["bench/benches", "park bench/park benches"],
    "bird": _BIRD_WORDS.split(),
    "cat": ["cat", "kitten", "kitty/kitties"],
    "dog": ["dog", "puppy/puppies", "pup"],
    "horse": ["horse", "pony/ponies", "foal", "stallion", "mare"],
    "sheep": ["sheep/sheep", "lamb"],
    "cow": ["cow", "cattle/cattle", "bull", "calf/calves", "ox/oxen"],
    "elephant": ["elephant"],
    "bear": ["bear", "polar bear", "grizzly/grizzlies", "grizzly bear"],
    "zebra": ["zebra"],
    "giraffe": ["giraffe"],
    "backpack": ["backpack", "rucksack"],
    "umbrella": ["umbrella", "parasol"],
    "handbag": ["handbag", "purse"],
    "tie": ["tie", "necktie", "bow tie"],
    "suitcase": ["suitcase", "suit case", "luggage/luggage"],
    "frisbee": ["frisbee", "flying disc"],
    "skis": ["ski", "skis/skis"],
    "snowboard": ["snowboard", "snow board"],
    "sports ball": ["ball", "soccer ball", "tennis ball"],
    "kite": ["kite"],
    "baseball bat": ["baseball bat"],
    "baseball glove": ["baseball glove", "baseball mitt"],
    "skateboard": ["skateboard", "skate board"],
    "surfboard": ["surfboard", "surf board"],
    "tennis racket": ["tennis racket", "racket", "racquet", "tennis racquet"],
    "bottle": ["bottle"],
    "wine glass": ["wine glass/wine glasses", "wineglass/wineglasses"],
    "cup": ["cup", "mug", "teacup", "coffee cup"],
    "fork": ["fork"],
    "knife": ["knife/knives"],
    "spoon": ["spoon"],
    "bowl": ["bowl"],
    "banana": ["banana"],
    "apple": ["apple"],
    "sandwich": ["sandwich/sandwiches", "burger", "hamburger"],
    "orange": ["orange"],
    "broccoli": ["broccoli/broccoli"],
    "carrot": ["carrot"],
    "hot dog": ["hot dog", "hotdog"],
    "pizza": ["pizza"],
    "donut": ["donut", "doughnut"],
    "cake": ["cake", "cupcake"],
    "chair": ["chair", "stool", "armchair"],
    "couch": ["couch/couches", "sofa"],
    "potted plant": ["potted plant", "houseplant", "house plant", "plant pot"],
    "bed": ["bed"],
    "dining table": ["table", "dining table", "kitchen table", "coffee table", "picnic table"],
    "toilet": ["toilet", "urinal"],
    "tv": ["tv/tvs", "television", "monitor", "flat screen", "flatscreen"],
    "laptop": ["laptop", "notebook computer"],
    "mouse": ["mouse/mice", "computer mouse/computer mice"],
    "remote": ["remote", "remote control", "controller", "game controller"],
    "keyboard": ["keyboard"],
    "cell phone": ["cell phone", "cellphone", "phone", "smartphone", "mobile phone", "iphone"],
    "microwave": ["microwave"],
    "oven": ["oven", "stove"],
    "toaster": ["toaster"],
    "sink": ["sink"],
    "refrigerator": ["refrigerator", "fridge", "freezer"],
    "book": ["book"],
    "clock": ["clock"],
    "vase": ["vase"],
    "scissors": ["scissors/scissors"],
    "teddy bear": ["teddy bear", "teddy/teddies", "stuffed bear"],
    "hair drier": ["hair drier", "hair dryer", "blow dryer", "blow drier"],
    "toothbrush": ["toothbrush/toothbrushes"],
}

# A phrase's last word, then the words after it that make it a modifier of something else, so the
# pair is not a mention ("bus stop", "toilet paper"). A following word's plural is listed with it.
MODIFIER_USES: dict[str, tuple[str, ...]] = {
    "bus": ("stop", "stops", "station", "terminal", "lane", "shelter", "route", "depot"),
    "train": ("station", "track", "tracks", "platform", "crossing", "yard"),
    "car": ("park", "wash", "dealership", "seat", "key"),
    "dog": ("bed", "food", "bowl", "leash", "collar", "house", "park", "toy", "tag"),
    "cat": ("food", "bowl", "toy", "tree", "litter", "bed"),
    "bird": ("feeder", "house", "cage", "bath", "nest", "droppings"),
    "horse": ("trailer", "stable", "barn", "track", "saddle"),
    "toilet": ("paper", "brush", "roll"),
    "pizza": ("box", "boxes", "cutter", "oven", "shop", "restaurant", "parlor", "place", "crust"),
    "cake": ("stand", "pan", "shop", "box"),
    "boat": ("dock", "ramp", "house", "launch", "trailer"),
    "apple": ("logo", "juice", "pie", "tree", "trees"),
    "banana": ("bread", "peel", "split"),
    "book": ("shelf", "shelves", "case", "store", "bag"),
    "bed": ("sheet", "sheets", "frame", "spread"),
    "table": ("cloth", "top", "lamp", "tennis"),
    "tv": ("stand", "show", "shows"),
    "phone": ("booth", "number", "call", "line", "pole", "poles"),
    "baby": ("stroller", "carriage", "food", "bottle", "shower"),
    "chicken": ("wings", "wing", "sandwich", "salad", "breast", "nuggets"),
    "kite": ("string", "surfing", "surfer", "surfers", "board", "boarding"),
    "ball": ("game", "field", "park", "cap", "gown", "room"),
    "ski": (
        "slope",
        "slopes",
        "lift",
        "lifts",
        "resort",
        "lodge",
        "area",
        "trail",
        "run",
        "jump",
        "jacket",
        "suit",
        "mask",
        "goggles",
        "instructor",
        "pole",
        "poles",
        "boots",
        "hill",
    ),  # fmt: skip
    "jet": ("ski", "skis", "stream", "bridge"),
    "chair": ("lift", "lifts"),
    "mouse": ("pad",),
    "plant": ("pot",),
}

# Words that are adjectives as often as nouns ("an orange shirt", "a remote village"): a mention
# only when no other word follows them, or the next word is a function word ("an orange and a pear").
AMBIGUOUS: frozenset[str] = frozenset({"orange", "remote"})
FUNCTION_WORDS: frozenset[str] = frozenset(
    [
        "and",
        "or",
        "but",
        "on",
        "in",
        "at",
        "by",
        "with",
        "without",
        "of",
        "to",
        "for",
        "from",
        "into",
        "onto",
        "near",
        "next",
        "beside",
        "behind",
        "under",
        "over",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "sits",
        "sit",
        "lies",
        "lie",
        "rests",
        "rest",
        "that",
        "which",
        "who",
        "while",
        "as",
        "sitting",
        "lying",
        "placed",
        "resting",
    ]
)


def plural(word: str) -> str:
    """Regular English plural of a phrase's last word (irregular ones are written out in SYNONYMS)."""
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def phrase_table() -> dict[str, tuple[str, bool]]:
    """Every phrase (singular and plural, lowercase) → (category, is_plural)."""
    table: dict[str, tuple[str, bool]] = {}
    for category, entries in SYNONYMS.items():
        for entry in [category, *entries]:
            singular, _, given = entry.partition("/")
            forms = [(singular, False), (given or plural(singular), True)]
            if not given and singular.endswith("s") and category == singular:
                forms = [(singular, False)]  # "skis", "scissors": the category name is already plural
            for form, is_plural in forms:
                form = form.replace("-", " ")
                # First entry wins, so an explicit singular beats another word's generated plural.
                table.setdefault(form, (category, is_plural and form != singular))
    return table


def check_table() -> None:
    """Every category has an entry and no phrase maps to a name outside COCO's 80 (a test calls this)."""
    missing = [c for c in COCO_CATEGORIES if c not in SYNONYMS]
    extra = [c for c in SYNONYMS if c not in COCO_CATEGORIES]
    if missing or extra:
        raise AssertionError(f"synonym list out of step with COCO: missing {missing}, unknown {extra}")
