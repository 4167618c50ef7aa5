"""Hash definitions: text form, keyed hashes, tree shape, and published reference vectors."""

import hashlib

import pytest
from blake3 import blake3

from registry.xet.errors import XetFormatError
from registry.xet.hashing import (
    DATA_KEY,
    INTERNAL_NODE_KEY,
    VERIFICATION_KEY,
    ZERO_HASH,
    chunk_hash,
    file_hash,
    hash_from_hex,
    hash_to_hex,
    internal_node_hash,
    is_hash_hex,
    merkle_root,
    sha256_hex_from_shard,
    sha256_hex_to_shard,
    term_verification_hash,
    xorb_hash,
)

H = hash_from_hex

# Leaves of the reference vectors: (text-form hash, size).
A = ("cfc5d07f6f03c29bbf424132963fe08d19a37d5757aaf520bf08119f05cd56d6", 100)
B = ("c3e67584b5c4fc2a89837ec39e40f2c8a6bb0b2987ac94cd4b31e5fbdd210a72", 200)
C = ("0d2beb91b9196929a5ddec9f6e306924ddf4a24268e3e59fd8464738d525af37", 300)
D = ("adf8773496a9b7319b2e50dc98093f344053b17d8ad37100b9c07d9805988784", 400)
E = ("4ac202caf347fc1e9c874b1ef6a1c5e619141eb775a6f43f0f0124ccd0060d9e", 500)
F = ("b3b28636f65c149ea52eb1f94669466f70f033b54cea792824c696ba6ef3c389", 600)
G = ("0e2c1a002aae913d2c0fc8ddfa4e9e14b7b311b3b0d458726d5d9f6a6318013c", 700)
Z = ("0" * 64, 0)
EIGHT = [Z, A, B, C, D, E, F, G]

# (leaves, xorb hash, file hash) as published for the Xet hashing specification.
REFERENCE_VECTORS = [
    ([], "0" * 64, "0" * 64),
    ([Z], "0" * 64, "638a6bc391964a85939d48f008e8bdbae6a7975e7ca2d87a3ce2492f4e4d8a4c"),
    ([A], A[0], "8e16257caa3fe079d484d872a8975264b2ff683b0d6db9028cc7c0f968a45661"),
    (
        [A, B, C],
        "71ec1275fca074724e2dd666921b3277c7cee603e4d025bcab2d4050015be2bc",
        "54e55dccc6653c612bdb5576c5d3cb34bb31bc4e100248abccf4c908b3ef7715",
    ),
    (
        [A, A, A, A],
        "89f2ada89ff8c96763c6b25010e6dd76a4c05b1466207633ea559acf2093211b",
        "2cdba690d0e09563596e0cda626d43eb4c96ef1e994fe72d9b2f5a83cfcd36dd",
    ),
    (
        [A, B, A, B, C, D],
        "52c826f99507aa05d0b45e9837fa1709e0485425cfbcb1e80db3905cf98b3ee9",
        "91d21684db364c8883ab8209fa5eb2e781cf07f37e1fa43e731c30839afe422f",
    ),
    (
        [C, D, E, C],
        "73b9dc802ab03a0855c66823a18d95c2a785af594535756abf405038b6270cb8",
        "c7d5be75ef5ec12888027ad305141e4109e599494477661177475c84e12de48b",
    ),
    (
        EIGHT,
        "f62abe77e3fb9c954fe52b0028027ddc90c064c45951a4fd2211d87e5c0011db",
        "d1b068be5bbdb38992269e8efe61f601881e39f7a7585fd76883cc6ea5c23b44",
    ),
    (
        EIGHT * 8,  # three levels
        "6554007c9b5d0a5e7918f79596a1b68815c1407535585435f5735db761f21b88",
        "a8640ab81d48854e00078e12b1ea8be5d90be0ffb5f73a15b7009981d093ddd8",
    ),
    (
        [A] * 32,
        "0a0123c1617921883b7e13902095fcb86676e77c49120c33b233003b0af0e0a6",
        "53af4711fd1d5e5bdc7f931b6be932314d8d673cb16ad2482f6f5222eaf9e63d",
    ),
]


def _leaves(pairs):
    return [(H(h), size) for h, size in pairs]


def test_text_form_prints_each_word_little_endian():
    raw = bytes(range(32))
    assert hash_to_hex(raw) == "07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"
    assert hash_from_hex(hash_to_hex(raw)) == raw


def test_text_form_accepts_upper_case_and_prints_lower_case():
    text = "ABCDEF0123456789" * 4
    assert hash_to_hex(hash_from_hex(text)) == text.lower()


@pytest.mark.parametrize("text", ["", "0" * 63, "0" * 65, "g" * 64, " " + "0" * 63, "0x" + "0" * 62])
def test_malformed_text_form_is_a_format_error(text):
    assert is_hash_hex(text) is False
    with pytest.raises(XetFormatError, match="not a Xet hash"):
        hash_from_hex(text)


def test_chunk_hash_is_blake3_keyed_with_the_data_key():
    assert chunk_hash(b"hello") == blake3(b"hello", key=DATA_KEY).digest()
    assert chunk_hash(b"hello") != blake3(b"hello").digest()


def test_internal_node_hashes_the_text_lines_of_its_children():
    expected_text = f"{A[0]} : 100\n{B[0]} : 200\n".encode()
    assert internal_node_hash(_leaves([A, B])) == blake3(expected_text, key=INTERNAL_NODE_KEY).digest()


@pytest.mark.parametrize(("leaves", "expected_xorb", "expected_file"), REFERENCE_VECTORS)
def test_reference_vectors(leaves, expected_xorb, expected_file):
    assert hash_to_hex(merkle_root(_leaves(leaves))) == expected_xorb
    assert hash_to_hex(xorb_hash(_leaves(leaves))) == expected_xorb
    assert hash_to_hex(file_hash(_leaves(leaves))) == expected_file


def _leaf_with_last_word(last_word: int, size: int) -> tuple[bytes, int]:
    return bytes([size % 256]) * 24 + last_word.to_bytes(8, "little"), size


def test_group_closes_after_a_child_whose_last_word_is_divisible_by_four():
    # Children 0 and 1 never close a group; child 2 (last word 8) does: groups [0..2], [3, 4].
    leaves = [_leaf_with_last_word(w, i + 1) for i, w in enumerate([4, 4, 8, 1, 3])]
    left = internal_node_hash(leaves[:3])
    right = internal_node_hash(leaves[3:])
    assert merkle_root(leaves) == internal_node_hash([(left, 6), (right, 9)])


def test_group_closes_after_nine_children_without_a_cut():
    leaves = [_leaf_with_last_word(1, i + 1) for i in range(11)]
    first = internal_node_hash(leaves[:9])
    rest = internal_node_hash(leaves[9:])
    assert merkle_root(leaves) == internal_node_hash([(first, sum(range(1, 10))), (rest, 10 + 11)])


def test_two_leaves_form_one_node_and_one_leaf_is_its_own_root():
    leaves = [_leaf_with_last_word(0, 5), _leaf_with_last_word(0, 6)]
    assert merkle_root(leaves) == internal_node_hash(leaves)
    assert merkle_root(leaves[:1]) == leaves[0][0]


def test_empty_file_and_xorb_hash_to_zeros():
    assert merkle_root([]) == ZERO_HASH
    assert file_hash([]) == ZERO_HASH


def test_file_hash_is_the_root_keyed_with_zeros():
    leaves = _leaves([A, B, C])
    assert file_hash(leaves) == blake3(merkle_root(leaves), key=bytes(32)).digest()


def test_term_verification_hash_covers_the_concatenated_raw_hashes():
    hashes = [H(A[0]), H(B[0]), H(C[0])]
    assert term_verification_hash(hashes) == blake3(b"".join(hashes), key=VERIFICATION_KEY).digest()
    assert term_verification_hash(iter(hashes)) == term_verification_hash(hashes)
    assert term_verification_hash(hashes[:2]) != term_verification_hash(hashes)


def test_sha256_is_stored_word_swapped_in_shards():
    # The real client's shards are checked in test_real_client.py; this pins the layout.
    digest = hashlib.sha256(b"registry").hexdigest()
    stored = sha256_hex_to_shard(digest)
    assert stored[:8] == bytes.fromhex(digest[:16])[::-1]
    assert sha256_hex_from_shard(stored) == digest
