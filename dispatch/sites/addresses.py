"""A site's address in parts, and the one line it reads as in its country (pure).

Two orders are written, and the country decides which:

- China (CN): largest unit first, the units run together with no spaces or commas: province, city
  (said once when it is the province, as in a municipality: 天津市), district, street, and the
  number with 号 ("天津市滨海新区新港二号路12号"). The postcode is kept in the parts but is not
  part of the line, as on a Chinese envelope, where it has a box of its own.
- Every other country, the European order: "Street 12, 1020 Wien, AT" (street and number, postcode
  and city, country). Province and district are kept in the parts; the line leaves them out.
"""

from __future__ import annotations

from dispatch.sites.models import AddressParts

# Countries whose addresses are written largest unit first, in Chinese.
CHINESE_ORDER = frozenset({"CN"})


def one_line(parts: AddressParts) -> str:
    """The address as one line, in the form of its country."""
    if parts.country in CHINESE_ORDER:
        return _chinese(parts)
    return _european(parts)


def _chinese(parts: AddressParts) -> str:
    units = [parts.province, parts.city if parts.city != parts.province else None, parts.district]
    units.append(parts.street)
    number = (parts.number or "").strip()
    if number:
        units.append(number if _ends_in_cjk(number) else number + "号")
    line = ""
    for unit in (u.strip() for u in units if u and u.strip()):
        # Chinese units run together; two Latin ones (a romanized name) keep a space between them.
        line += " " + unit if line and _latin(line[-1]) and _latin(unit[0]) else unit
    return line


def _european(parts: AddressParts) -> str:
    street = " ".join(x.strip() for x in (parts.street, parts.number) if x and x.strip())
    place = " ".join(x.strip() for x in (parts.postcode, parts.city) if x and x.strip())
    return ", ".join(x for x in (street, place, parts.country) if x)


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _ends_in_cjk(text: str) -> bool:
    # A number already carrying its unit (12号, 3弄, 5栋) is kept as written.
    return "\u4e00" <= text[-1:] <= "\u9fff"
