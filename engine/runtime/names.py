"""Container IDs and names as Docker makes them: 64 hex characters; ``adjective_surname``."""

from __future__ import annotations

import os

from ..errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NEXT = _FIRST | {"_", ".", "-"}


def is_valid_name(name: str) -> bool:
    """Docker's rule for container and volume names: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``."""
    return len(name) > 1 and name[0] in _FIRST and all(c in _NEXT for c in name)


_LEFT = (
    "admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring brave busy "
    "charming clever compassionate competent condescending confident cool cranky crazy dazzling determined "
    "distracted dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent festive flamboyant "
    "focused friendly frosty funny gallant gifted goofy gracious great happy hardcore heuristic hopeful hungry "
    "infallible inspiring intelligent interesting jolly jovial keen kind laughing loving lucid magical "
    "modest musing mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful pedantic "
    "pensive practical priceless quirky quizzical recursing relaxed reverent romantic sad serene sharp silly "
    "sleepy stoic strange stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant "
    "vigilant vigorous wizardly wonderful xenodochial youthful zealous zen"
).split()
_RIGHT = (
    "agnesi albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach bardeen bartik "
    "bassi beaver bell benz bhabha bhaskara black blackburn blackwell bohr booth borg bose bouman boyd "
    "brahmagupta brattain brown buck burnell cannon carson cartwright carver cerf chandrasekhar chaplygin "
    "chatelet chatterjee chebyshev clarke cohen colden cori cray curie darwin davinci dewdney dhawan diffie "
    "dijkstra dirac driscoll dubinsky easley edison einstein elbakyan elgamal elion ellis engelbart euclid "
    "euler faraday feistel fermat fermi feynman franklin gagarin galileo galois ganguly gates gauss germain "
    "goldberg goldstine goldwasser golick goodall gould greider grothendieck haibt hamilton haslett hawking "
    "heisenberg hellman hermann herschel hertz heyrovsky hodgkin hofstadter hoover hopper hugle hypatia "
    "jackson jang jemison jennings jepsen johnson joliot jones kalam kapitsa kare keldysh keller kepler "
    "khayyam khorana kilby kirch knuth kowalevski lalande lamarr lamport leakey leavitt lederberg lehmann "
    "lewin lichterman liskov lovelace lumiere mahavira margulis matsumoto maxwell mayer mccarthy mcclintock "
    "mclaren mclean mcnulty meitner mendel mendeleev meninsky merkle mestorf mirzakhani montalcini moore "
    "morse moser murdock napier nash neumann newton nightingale nobel noether northcutt noyce panini pare "
    "pascal pasteur payne perlman pike poincare poitras proskuriakova ptolemy raman ramanujan rhodes ride "
    "ritchie robinson roentgen rosalind rubin saha sammet sanderson satoshi shamir shannon shaw shirley "
    "shockley shtern sinoussi snyder solomon spence stonebraker sutherland swanson swartz swirles taussig "
    "tesla tharp thompson torvalds tu turing varahamihira vaughan villani visvesvaraya volhard wescoff "
    "wilbur wiles williams williamson wilson wing wozniak wright wu yalow yonath zhukovsky"
).split()


def _pick(n: int) -> int:
    """A uniform random index below ``n`` from the kernel's generator (the random module costs ~1 ms
    to import on every create)."""
    limit = (1 << 32) - (1 << 32) % n
    while True:
        value = int.from_bytes(os.urandom(4), "little")
        if value < limit:
            return value % n


def new_id() -> str:
    return os.urandom(32).hex()


def generate_name(taken: Callable[[str], bool]) -> str:
    """A free ``adjective_surname`` name; ``taken`` says whether a name is held."""
    for attempt in range(200):
        name = f"{_LEFT[_pick(len(_LEFT))]}_{_RIGHT[_pick(len(_RIGHT))]}"
        if attempt > 20:
            name += str(_pick(10))
        if not taken(name):
            return name
    raise InvalidArgument("could not generate a unique container name")


def validate_name(name: str) -> str:
    """Return the name without a leading ``/``; refuse names Docker refuses, with Docker's message."""
    if not is_valid_name(name[1:] if name.startswith("/") else name):
        raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")
