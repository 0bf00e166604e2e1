"""Tests for conformance/html_report.py on a tiny fixed run."""

import html.parser
import pathlib
import tempfile
import unittest

import report_fixture

from conformance import html_report


class _Text(html.parser.HTMLParser):
    """The page's text and links, as a browser would show them."""

    def __init__(self) -> None:
        super().__init__()
        self.text = []
        self.links = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            self.links.append(dict(attrs)["href"])

    def handle_data(self, data) -> None:
        self.text.append(data)


def parse(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    parser.close()
    return parser


class HtmlReportTest(unittest.TestCase):
    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.root = pathlib.Path(directory.name)
        html_report.write(
            self.root, report_fixture.entries(), report_fixture.columns()
        )

    def test_index_lists_every_scenario_with_each_testee(self) -> None:
        page = (self.root / "index.html").read_text()
        self.assertNotIn("<script", page)
        self.assertNotIn("http", page)  # self-contained
        self.assertNotIn("Fails<&>", page)  # escaped
        shown = parse(page)
        text = "".join(shown.text)
        self.assertIn("Topic.Op.Fails<&>", text)
        self.assertIn("Informational: CPython 3.11.2", text)
        self.assertIn("skipped: skipped by the testee: no <feature>", text)
        self.assertIn(
            '<tr><td><a href="#topic">topic</a></td><td>2</td>'
            '<td class="passed">2</td><td class="failed">1</td>'
            '<td class="other">1 <small>(+1 skipped)</small></td></tr>',
            page,
        )
        self.assertIn("2 scenarios in 1 topic.", text)
        self.assertIn('<td class="failed">', page)
        self.assertIn('<td class="skipped">', page)
        self.assertIn("scenarios/Topic.Op.Fails___.html", shown.links)
        for link in shown.links:
            if not link.startswith("#"):
                self.assertTrue((self.root / link).exists(), link)

    def test_scenario_page_has_steps_expected_observed_and_diff(
        self,
    ) -> None:
        page = (self.root / "scenarios" / "Topic.Op.Fails___.html").read_text()
        self.assertNotIn("<b>escaping", page)
        text = "".join(parse(page).text)
        self.assertIn('needs <b>escaping</b> & "quotes"', text)
        self.assertIn("Step 1 of 1: a <note>", text)
        self.assertIn('feed_data(b"<&>")', text.replace("'", '"'))
        self.assertIn('expect { buffer: "<&>" }', text)
        self.assertIn('observed { buffer: "\\"" ', text)
        self.assertIn("C++: step 1: buffer", text)
        self.assertIn("      expected b'<&>'\n      observed b'\"'", text)
        self.assertIn("observed on CPython 3.11.2", text)


if __name__ == "__main__":
    unittest.main()
