"""Top-box, NPS and the headline metric on 0-10, 1-10 and 1-5 scales (whatif.data.rating)."""

import numpy as np
import pytest

from whatif.data.rating import rating_scale
from whatif.data.spec import parse_spec
from whatif.errors import SpecError


def _spec(**survey):
    return parse_spec(
        {"survey": {"outcome": "y", **survey}, "drivers": {"a": {"column": "a"}}}, "spec.toml"
    )


def test_zero_to_ten_reports_nps_and_leads_with_it():
    rating = _spec(scale=[0, 10]).rating
    assert (rating.top_box, rating.bottom_box, rating.headline) == (9.0, 6.0, "nps")
    top, detractor = rating.classify(np.arange(11))
    assert top.tolist() == [False] * 9 + [True] * 2
    assert detractor.tolist() == [True] * 7 + [False] * 4
    # NPS of answers 0..10 once each: 2 promoters, 7 detractors of 11
    assert 100 * (top.mean() - detractor.mean()) == pytest.approx(100 * (2 - 7) / 11)


def test_one_to_ten_reports_top_box_but_no_nps_unless_asked():
    rating = _spec(scale=[1, 10]).rating
    assert (rating.top_box, rating.bottom_box, rating.headline) == (9.0, None, "mean")
    assert rating.metrics == ("mean", "top_box")
    asked = _spec(scale=[1, 10], bottom_box=6).rating
    assert asked.metrics == ("mean", "top_box", "nps") and asked.headline == "mean"


def test_one_to_five_top_two_box_and_a_chosen_headline():
    rating = _spec(scale=[1, 5], headline="top_box").rating
    assert (rating.top_box, rating.headline, rating.top_box_label) == (4.0, "top_box", "4-5")
    top, detractor = rating.classify([1, 2, 3, 4, 5])
    assert top.tolist() == [False, False, False, True, True] and not detractor.any()
    strict = _spec(scale=[1, 5], top_box=5, bottom_box=3).rating
    assert strict.classify([3, 4, 5])[0].tolist() == [False, False, True]
    assert strict.classify([3, 4, 5])[1].tolist() == [True, False, False]


def test_the_keys_round_trip_through_the_spec():
    spec = _spec(scale=[0, 10], top_box=10, bottom_box=5, headline="top_box", likelihood="linear")
    again = parse_spec(spec.to_dict())
    assert again.rating == spec.rating and again.likelihood == "linear"


@pytest.mark.parametrize(
    ("survey", "key"),
    [
        ({"scale": [0, 10], "top_box": 11}, "survey.top_box"),
        ({"scale": [0, 10], "top_box": "9"}, "survey.top_box"),
        ({"scale": [0, 10], "bottom_box": -1}, "survey.bottom_box"),
        ({"scale": [0, 10], "top_box": 8, "bottom_box": 8}, "survey.bottom_box"),
        ({"scale": [1, 10], "headline": "nps"}, "survey.headline"),
        ({"scale": [1, 10], "headline": "median"}, "survey.headline"),
        ({"scale": [1, 10], "likelihood": "probit"}, "survey.likelihood"),
    ],
)
def test_bad_keys_get_one_line_naming_the_key(survey, key):
    with pytest.raises(SpecError) as caught:
        _spec(**survey)
    message = str(caught.value)
    assert key in message and "spec.toml" in message and "\n" not in message


def test_rating_scale_raises_without_a_callback():
    with pytest.raises(ValueError, match="top_box"):
        rating_scale((1.0, 5.0), top_box=0)
