"""Tests for conformance/textproto.py: tokenizer, spans and printer."""

import unittest

import _path  # noqa: F401

from google.protobuf import text_format

from conformance import scenario_pb2 as pb
from conformance import textproto


class TokenizeTest(unittest.TestCase):
    def test_strings_with_escapes_and_braces(self) -> None:
        tokens = textproto.tokenize(r'a: "x\"}{\\" b: ' + "'q\\'#'")
        self.assertEqual(
            [t.text for t in tokens],
            ["a", ":", r'"x\"}{\\"', "b", ":", "'q\\'#'"],
        )
        self.assertEqual(tokens[2].kind, "string")

    def test_comments_are_dropped_even_with_braces_and_quotes(self) -> None:
        text = '# header { " \nname: "n" # trailing }\n}'
        tokens = textproto.tokenize(text)
        self.assertEqual([t.text for t in tokens], ["name", ":", '"n"', "}"])
        self.assertEqual([t.line for t in tokens], [2, 2, 2, 3])

    def test_offsets_point_into_the_text(self) -> None:
        text = 'steps {\n  feed_data: "ab"\n}'
        for token in textproto.tokenize(text):
            self.assertEqual(text[token.start : token.end], token.text)

    def test_unterminated_string(self) -> None:
        with self.assertRaises(textproto.TextprotoError):
            textproto.tokenize('a: "abc\n')


class ParseTest(unittest.TestCase):
    def test_nested_blocks_and_spans(self) -> None:
        text = (
            '# c\nscenario {\n  name: "a" "b"\n  steps { actions '
            "< feed_eof {} > }\n  steps: { expect {} }  # x\n}\n"
        )
        nodes = textproto.parse(text)
        self.assertEqual([n.name for n in nodes], ["scenario"])
        scenario = nodes[0]
        self.assertEqual(scenario.line, 2)
        self.assertEqual(
            [c.name for c in scenario.children], ["name", "steps", "steps"]
        )
        self.assertEqual(
            text[scenario.children[0].start : scenario.children[0].end],
            'name: "a" "b"',
        )
        second = scenario.find("steps")[1]
        expect = second.find("expect")[0]
        self.assertEqual(text[expect.start : expect.end], "expect {}")
        self.assertEqual(
            text[second.start : second.end], "steps: { expect {} }"
        )
        self.assertTrue(second.is_message)

    def test_list_values(self) -> None:
        nodes = textproto.parse("pending: [1, 2] pending: 3 x: -1")
        self.assertEqual(
            [n.name for n in nodes], ["pending", "pending", "pending", "x"]
        )

    def test_missing_brace(self) -> None:
        with self.assertRaises(textproto.TextprotoError):
            textproto.parse("a { b: 1")


class FormatTest(unittest.TestCase):
    def observation(self) -> pb.Observation:
        observation = pb.Observation(buffer=b"a\n\x00\xff", at_eof=False)
        observation.pending.extend([1, 2])
        observation.completed.add(id=1, value=b"")
        observation.transport_calls.add(close=pb.Empty())
        return observation

    def test_one_line(self) -> None:
        text = textproto.format_field(
            "expect", self.observation(), 4, width=200
        )
        self.assertEqual(
            text,
            'expect { completed { id: 1 value: "" } '
            "pending: [1, 2] transport_calls { close {} } "
            'buffer: "a\\n\\000\\377" at_eof: false }',
        )

    def test_multi_line_when_too_wide(self) -> None:
        text = textproto.format_field(
            "expect", self.observation(), 4, width=40
        )
        self.assertEqual(
            text.splitlines(),
            [
                "expect {",
                '      completed { id: 1 value: "" }',
                "      pending: [1, 2]",
                "      transport_calls { close {} }",
                '      buffer: "a\\n\\000\\377"',
                "      at_eof: false",
                "    }",
            ],
        )

    def test_printed_text_parses_back(self) -> None:
        observation = self.observation()
        for width in (20, 100):
            text = textproto.format_field("expect", observation, 0, width)
            step = text_format.Parse(text, pb.Step())
            self.assertEqual(step.expect, observation)

    def test_empty_message(self) -> None:
        self.assertEqual(
            textproto.format_field("expect", pb.Observation(), 0), "expect {}"
        )


if __name__ == "__main__":
    unittest.main()
