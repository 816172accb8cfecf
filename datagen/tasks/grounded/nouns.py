"""How to say each COCO category in an English question: singular, plural and indefinite article.

Grounded QA (`datagen/tasks/grounded/questions.py`) writes questions straight from annotations, so every one of the 80
COCO category names needs a correct noun phrase. The names themselves are a mix of singulars
("knife"), plural-only nouns ("skis", "scissors"), compounds ("wine glass") and short forms ("tv"),
so a suffix rule would get many wrong; the table below is written out by hand.

COCO annotates a pair of skis (and a pair of scissors) as one instance, so those are counted in
pairs: "How many pairs of skis are there?".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Noun:
    singular: str  # one instance, without article: "wine glass", "pair of skis"
    plural: str  # several instances: "wine glasses", "pairs of skis"

    @property
    def with_article(self) -> str:
        """The singular with "a"/"an": "an umbrella", "a person"."""
        article = "an" if self.singular[0] in "aeiou" else "a"
        return f"{article} {self.singular}"

    def counted(self, n: int) -> str:
        """`n` followed by the right number form: "1 person", "3 people"."""
        return f"{n} {self.singular if n == 1 else self.plural}"


# The 80 COCO 2017 detection categories, in COCO's category-id order, with their noun forms.
_TABLE: list[tuple[str, str, str]] = [
    ("person", "person", "people"),
    ("bicycle", "bicycle", "bicycles"),
    ("car", "car", "cars"),
    ("motorcycle", "motorcycle", "motorcycles"),
    ("airplane", "airplane", "airplanes"),
    ("bus", "bus", "buses"),
    ("train", "train", "trains"),
    ("truck", "truck", "trucks"),
    ("boat", "boat", "boats"),
    ("traffic light", "traffic light", "traffic lights"),
    ("fire hydrant", "fire hydrant", "fire hydrants"),
    ("stop sign", "stop sign", "stop signs"),
    ("parking meter", "parking meter", "parking meters"),
    ("bench", "bench", "benches"),
    ("bird", "bird", "birds"),
    ("cat", "cat", "cats"),
    ("dog", "dog", "dogs"),
    ("horse", "horse", "horses"),
    ("sheep", "sheep", "sheep"),
    ("cow", "cow", "cows"),
    ("elephant", "elephant", "elephants"),
    ("bear", "bear", "bears"),
    ("zebra", "zebra", "zebras"),
    ("giraffe", "giraffe", "giraffes"),
    ("backpack", "backpack", "backpacks"),
    ("umbrella", "umbrella", "umbrellas"),
    ("handbag", "handbag", "handbags"),
    ("tie", "tie", "ties"),
    ("suitcase", "suitcase", "suitcases"),
    ("frisbee", "frisbee", "frisbees"),
    ("skis", "pair of skis", "pairs of skis"),
    ("snowboard", "snowboard", "snowboards"),
    ("sports ball", "ball", "balls"),
    ("kite", "kite", "kites"),
    ("baseball bat", "baseball bat", "baseball bats"),
    ("baseball glove", "baseball glove", "baseball gloves"),
    ("skateboard", "skateboard", "skateboards"),
    ("surfboard", "surfboard", "surfboards"),
    ("tennis racket", "tennis racket", "tennis rackets"),
    ("bottle", "bottle", "bottles"),
    ("wine glass", "wine glass", "wine glasses"),
    ("cup", "cup", "cups"),
    ("fork", "fork", "forks"),
    ("knife", "knife", "knives"),
    ("spoon", "spoon", "spoons"),
    ("bowl", "bowl", "bowls"),
    ("banana", "banana", "bananas"),
    ("apple", "apple", "apples"),
    ("sandwich", "sandwich", "sandwiches"),
    ("orange", "orange", "oranges"),
    ("broccoli", "piece of broccoli", "pieces of broccoli"),
    ("carrot", "carrot", "carrots"),
    ("hot dog", "hot dog", "hot dogs"),
    ("pizza", "pizza", "pizzas"),
    ("donut", "donut", "donuts"),
    ("cake", "cake", "cakes"),
    ("chair", "chair", "chairs"),
    ("couch", "couch", "couches"),
    ("potted plant", "potted plant", "potted plants"),
    ("bed", "bed", "beds"),
    ("dining table", "dining table", "dining tables"),
    ("toilet", "toilet", "toilets"),
    ("tv", "TV", "TVs"),
    ("laptop", "laptop", "laptops"),
    ("mouse", "computer mouse", "computer mice"),
    ("remote", "remote control", "remote controls"),
    ("keyboard", "keyboard", "keyboards"),
    ("cell phone", "cell phone", "cell phones"),
    ("microwave", "microwave", "microwaves"),
    ("oven", "oven", "ovens"),
    ("toaster", "toaster", "toasters"),
    ("sink", "sink", "sinks"),
    ("refrigerator", "refrigerator", "refrigerators"),
    ("book", "book", "books"),
    ("clock", "clock", "clocks"),
    ("vase", "vase", "vases"),
    ("scissors", "pair of scissors", "pairs of scissors"),
    ("teddy bear", "teddy bear", "teddy bears"),
    ("hair drier", "hair dryer", "hair dryers"),
    ("toothbrush", "toothbrush", "toothbrushes"),
]

NOUNS: dict[str, Noun] = {name: Noun(singular, plural) for name, singular, plural in _TABLE}
COCO_CATEGORIES: tuple[str, ...] = tuple(name for name, _, _ in _TABLE)


def noun(category: str) -> Noun:
    """Noun forms for a category; a name outside COCO's 80 (e.g. from a detector) gets a plain guess."""
    known = NOUNS.get(category)
    if known is not None:
        return known
    if category.endswith(("s", "x", "z", "ch", "sh")):
        return Noun(category, category + "es")
    if category.endswith("y") and category[-2:-1] not in "aeiou":
        return Noun(category, category[:-1] + "ies")
    return Noun(category, category + "s")
