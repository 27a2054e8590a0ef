"""The Terraform writers: HCL in `terraform fmt` form, and the same file as .tf.json."""

from __future__ import annotations

import json

import pytest

from notifyctl.export import hcl, tfjson
from notifyctl.export.syntax import Attribute, Comment, Expr, File, JsonEncode, Ref, block

pytestmark = pytest.mark.unit


def _lines(*blocks: object, header: tuple[str, ...] = ()) -> list[str]:
    return hcl.render(File("main", header, tuple(blocks))).splitlines()  # type: ignore[arg-type]


def test_consecutive_one_line_attributes_align_their_equals_signs() -> None:
    lines = _lines(block("resource", "aws_x", "y", body=[
        Attribute("name", "a"), Attribute("retention_in_days", 30)]))
    assert lines == ['resource "aws_x" "y" {',
                     '  name              = "a"',
                     "  retention_in_days = 30",
                     "}"]


def test_a_multi_line_value_comment_or_block_ends_an_alignment_run() -> None:
    lines = _lines(block("resource", "aws_x", "y", body=[
        Attribute("name", "a"),
        Attribute("policy", JsonEncode({"Version": "2012-10-17"})),
        Attribute("long_name", True),
        Comment(("why",)),
        Attribute("k", 1),
        block("lifecycle", body=[Attribute("ignore_changes", [Ref("filename")])]),
    ]))
    assert lines == ['resource "aws_x" "y" {',
                     '  name = "a"',
                     "  policy = jsonencode({",
                     '    Version = "2012-10-17"',
                     "  })",
                     "  long_name = true",
                     "",
                     "  # why",
                     "  k = 1",
                     "",
                     "  lifecycle {",
                     "    ignore_changes = [filename]",
                     "  }",
                     "}"]


def test_a_string_that_is_one_interpolation_is_written_as_the_bare_expression() -> None:
    assert hcl.inline("${var.sender}") == "var.sender"
    assert hcl.inline("${var.prefix}-dedup") == '"${var.prefix}-dedup"'


def test_quotes_are_escaped_outside_interpolations_only() -> None:
    assert hcl.quote('"${aws_x.y.token}"') == '"\\"${aws_x.y.token}\\""'


def test_object_keys_are_quoted_unless_plain_identifiers() -> None:
    lines = _lines(block("locals", body=[Attribute("tags", {"managed-by": "n", "Name": "x"})]))
    assert '    "managed-by" = "n"' in lines and '    Name         = "x"' in lines


def test_long_lists_and_lists_of_objects_take_one_line_per_element() -> None:
    long = [f"service:Action{i:02d}" for i in range(6)]
    lines = _lines(block("locals", body=[Attribute("a", long), Attribute("b", [{"k": 1}])]))
    assert '    "service:Action00",' in lines
    assert lines[lines.index("  b = [") + 1:lines.index("  b = [") + 4] == [
        "    {", "      k = 1", "    },"]


def test_empty_blocks_are_one_line() -> None:
    assert _lines(block("data", "aws_region", "current")) == ['data "aws_region" "current" {}']


def test_json_syntax_nests_blocks_by_labels_and_writes_expressions_as_templates() -> None:
    text = tfjson.render(File("main", ("header",), (
        block("resource", "aws_x", "y", body=[
            Comment(("why",)),
            Attribute("n", Expr("var.n")),
            Attribute("policy", JsonEncode({"Resource": "arn:${local.partition}:x"})),
            Attribute("depends_on", [Ref("aws_z.w")]),
            block("lifecycle", body=[Attribute("ignore_changes", [Ref("filename")])]),
        ]),
        block("variable", "n", body=[Attribute("type", Ref("number"))]),
    )))
    doc = json.loads(text)
    resource = doc["resource"]["aws_x"]["y"]
    assert doc["//"] == "header" and resource["//"] == "why"
    assert resource["n"] == "${var.n}"
    assert resource["policy"] == '${jsonencode({ Resource = "arn:${local.partition}:x" })}'
    assert resource["depends_on"] == ["aws_z.w"]
    assert resource["lifecycle"] == {"ignore_changes": ["filename"]}
    assert doc["variable"]["n"] == {"type": "number"}
