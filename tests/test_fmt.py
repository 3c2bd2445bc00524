"""An error never prints as 0.00000 unless it is 0."""

from freqextract.fmt import mse
from freqextract.models.card import describe, make_card


def test_five_decimals_where_they_show_the_value_scientific_below():
    assert mse(0.00066) == "0.00066" and mse(0.5) == "0.50000" and mse(0.0) == "0.00000"
    assert mse(3.7e-06) == "3.70e-06" and mse(-4.4e-06, signed=True) == "-4.40e-06"
    assert mse(0.00123, signed=True) == "+0.00123"


def test_a_planted_clocks_line_shows_its_error():
    card = make_card("spec", 3.7e-06, {"test_mse_S_shuffled": 3.8e-06, "test_mse_S_zeroed": 3.7e-06}, "rotation")
    line = describe(card)
    assert "test MSE 3.70e-06, with S shuffled in time 3.80e-06" in line and "0.00000" not in line
