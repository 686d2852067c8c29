from uuid import uuid4

from dispatch.authorizations.codes import ALPHABET, code_hash, derive_code, normalize


def test_codes_are_stable_grouped_and_distinct():
    subject = uuid4()
    code = derive_code("secret", "authorization", subject)
    assert code == derive_code("secret", "authorization", subject)
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set(ALPHABET)
    assert code != derive_code("secret", "load", subject)
    assert code != derive_code("other secret", "authorization", subject)
    assert len({derive_code("secret", "authorization", uuid4()) for _ in range(2000)}) == 2000


def test_typing_variants_hash_the_same():
    code = derive_code("secret", "authorization", uuid4())
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalize(sloppy) == code.replace("-", "")
    assert code_hash(sloppy) == code_hash(code)
