import QtQuick
import QtTest
import Gatehouse

// The Format singleton as the Keys page uses it: the limit sliders' log scale and limit texts.
TestCase {
    name: "Format"

    function test_sliderEnds() {
        compare(Format.sliderToUsd(0), 0.1)
        compare(Format.sliderToUsd(1), 1000)
        compare(Format.sliderToUsd(0.25), 1)
        compare(Format.sliderToUsd(0.5), 10)
        compare(Format.sliderToUsd(0.75), 100)
        compare(Format.sliderToUsd(-1), 0.1)
        compare(Format.sliderToUsd(2), 1000)
    }

    function test_sliderInverse() {
        compare(Format.usdToSlider(0.1), 0)
        compare(Format.usdToSlider(1000), 1)
        compare(Format.usdToSlider(10), 0.5)
        compare(Format.usdToSlider(0), 0)
        compare(Format.usdToSlider(1e6), 1)
    }

    function test_niceValuesRoundTrip_data() {
        return [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 25, 50, 100, 250, 500, 1000].map(v => ({ tag: "$" + v, usd: v }))
    }
    function test_niceValuesRoundTrip(data) {
        compare(Format.sliderToUsd(Format.usdToSlider(data.usd)), data.usd)
    }

    // Both $1 and $500 are easy to hit: each decade gets a quarter of the track.
    function test_oneAndFiveHundredAreReachable() {
        let hitsOne = 0, hitsFiveHundred = 0
        for (let i = 0; i <= 400; ++i) {
            const v = Format.sliderToUsd(i / 400)
            if (v === 1) ++hitsOne
            if (v === 500) ++hitsFiveHundred
        }
        verify(hitsOne >= 5, "$1 spans " + hitsOne + " of 400 steps")
        verify(hitsFiveHundred >= 5, "$500 spans " + hitsFiveHundred + " of 400 steps")
    }

    function test_sliderIsMonotonic() {
        let previous = 0
        for (let i = 0; i <= 200; ++i) {
            const v = Format.sliderToUsd(i / 200)
            verify(v >= previous, v + " after " + previous)
            previous = v
        }
    }

    function test_limitFormatting() {
        compare(Format.limit(-1), "No limit")
        compare(Format.limit(0.25), "$0.25")
        compare(Format.limit(25), "$25.00")
        compare(Format.limit(1500), "$1,500")
        compare(Format.usd(0.0123), "$0.0123")
        compare(Format.usd(12.5), "$12.50")
        compare(Format.usd(1234), "$1,234")
        compare(Format.percent(0.8), "80%")
        compare(Format.tokens(3400000), "3.4M")
    }
}
