"""The body and status of /api/validate-yaml, in the shape huggingface_hub reads."""

from registry.cards import card_parse, validate_yaml_response


def test_valid_card_answers_200_with_empty_lists():
    card = card_parse("---\nlicense: mit\n---\n", repo_type="model")
    assert validate_yaml_response(card) == (200, {"errors": [], "warnings": []})


def test_card_without_metadata_answers_200_with_a_warning():
    card = card_parse("This is a modelcard without metadata", repo_type="model")
    assert validate_yaml_response(card) == (
        200,
        {
            "errors": [],
            "warnings": [
                {
                    "message": "yaml: the card has no metadata; add a front matter block (a --- line, YAML keys"
                    " such as license and tags, then a --- line) at the top of README.md",
                    "field": "yaml",
                }
            ],
        },
    )


def test_invalid_card_answers_400_with_each_error_naming_its_path():
    card = card_parse(
        "---\nlanguage: [en, xq]\nmodel-index: foo\ndifficulty: hard\nreading_time: 0\n---\n", repo_type="tutorial"
    )
    assert validate_yaml_response(card) == (
        400,
        {
            "errors": [
                {
                    "message": 'difficulty: "hard" is not allowed; use one of beginner, intermediate, advanced',
                    "field": "difficulty",
                },
                {
                    "message": "reading_time: must be a positive whole number of minutes, such as 15;"
                    " found the number 0",
                    "field": "reading_time",
                },
            ],
            "warnings": [
                {
                    "message": 'language[1]: "xq" is not an ISO 639 language code the registry knows;'
                    " check the spelling",
                    "field": "language[1]",
                }
            ],
        },
    )
