"""Hypothesis strategies for what a sender may write in a CAP <polygon> or <circle>: degenerate
rings, bow ties, the whole globe, the antimeridian, NaN and other text where numbers go."""

from __future__ import annotations

from hypothesis import strategies as st

# Numbers as a sender might write them: any float (NaN, infinities, huge), the edges of the
# ranges, Israel's, and text that is not a number.
edges = st.sampled_from([0.0, 90.0, -90.0, 180.0, -180.0, 179.9999, -179.9999, 89.9999, 1e-300,
                         31.5, 34.6, 35.2])
numbers = st.one_of(st.floats(), st.floats(-90, 90), st.floats(-180, 180), edges)
number_text = st.one_of(numbers.map(repr), numbers.map(str), st.sampled_from(
    ["nan", "NaN", "inf", "-inf", "1e400", "-1e400", "", " ", "abc", "1_0", "0x1p-2", "٣١",
     "31.5,34.6", "1e", "--1", "+.5"]))
pairs = st.one_of(st.tuples(number_text, number_text).map(",".join),
                  st.tuples(st.floats(29, 34), st.floats(34, 36)).map(
                      lambda p: f"{p[0]},{p[1]}"),
                  st.text(max_size=12))


def ring(points: list[str], close: bool) -> str:
    return " ".join([*points, points[0]] if close and points else points)


polygon_text = st.one_of(
    st.builds(ring, st.lists(pairs, max_size=40), st.booleans()),
    st.text(max_size=200),
    st.sampled_from([
        "31.5,34.6 31.5,34.6 31.5,34.6 31.5,34.6",  # one point four times
        "31.5,34.6 31.6,34.7 31.7,34.8 31.5,34.6",  # a line there and back
        "31.50,34.58 31.56,34.64 31.56,34.58 31.50,34.64 31.50,34.58",  # a bow tie
        "-90,-180 90,-180 90,180 -90,180 -90,-180",  # the whole globe
        "31,179.9 32,-179.9 33,179.9 31,179.9",  # across the antimeridian
        "90,0 90,90 90,180 90,0",  # the pole, three times
        "31.5,34.6 31.6,nan 31.6,34.7 31.5,34.6",
    ]))
circle_text = st.one_of(
    st.builds(lambda c, r: f"{c} {r}", pairs, number_text),
    st.builds(lambda lat, lng, r: f"{lat},{lng} {r}", st.floats(-90, 90), st.floats(-180, 180),
              st.floats(0, 1_000)),
    st.text(max_size=60))
