pragma Singleton
pragma ComponentBehavior: Bound

import QtQuick

// The design tokens of the window: colors (light and dark), the spacing scale, radii and type sizes.
// Dark or light follows the system: Qt 6.4 has no Qt.styleHints.colorScheme, so the lightness of the
// platform palette's window color decides. `forced` ("light" | "dark") overrides it; Main.qml sets it
// from App.themeOverride (the GATEHOUSE_THEME environment variable).
QtObject {
    id: theme

    property string forced: ""

    readonly property SystemPalette system: SystemPalette {
        colorGroup: SystemPalette.Active
    }
    readonly property bool systemDark: theme.system.window.hslLightness < 0.5
    readonly property bool dark: theme.forced === "dark" || (theme.forced !== "light" && theme.systemDark)

    // Surfaces
    readonly property color window: dark ? "#0f1115" : "#f5f6f8"
    readonly property color rail: dark ? "#14171c" : "#eceef2"
    readonly property color surface: dark ? "#181b21" : "#ffffff"
    readonly property color surfaceAlt: dark ? "#1f232a" : "#f4f5f7"
    readonly property color surfaceHover: dark ? "#252a32" : "#eef0f3"
    readonly property color border: dark ? "#2a2f38" : "#e2e5ea"
    readonly property color borderStrong: dark ? "#3a404b" : "#cdd2da"
    readonly property color inputBackground: dark ? "#13161b" : "#ffffff"

    // Text
    readonly property color text: dark ? "#e7e9ed" : "#171a20"
    readonly property color textMuted: dark ? "#a2a9b5" : "#586070"
    readonly property color textFaint: dark ? "#6f7784" : "#8b93a1"
    readonly property color textOnAccent: "#ffffff"

    // Accent and states (the teal of the application icon)
    readonly property color accent: dark ? "#3fb8c6" : "#0d7285"
    readonly property color accentHover: dark ? "#5cc7d3" : "#0a6172"
    readonly property color accentSoft: dark ? "#15353b" : "#e3f1f3"
    readonly property color ok: dark ? "#3ccf8e" : "#16a06a"
    readonly property color okSoft: dark ? "#173528" : "#e3f6ee"
    readonly property color warning: dark ? "#f5b13d" : "#d9860b"
    readonly property color warningSoft: dark ? "#3a2d14" : "#fdf1dc"
    readonly property color danger: dark ? "#f36b6b" : "#d93636"
    readonly property color dangerSoft: dark ? "#3d1d20" : "#fdeaea"
    readonly property color track: dark ? "#2b3039" : "#e6e9ee"

    // Series colors (charts, providers): distinct, restrained, readable on both backgrounds.
    readonly property list<color> series: dark
        ? ["#3fb8c6", "#f5b13d", "#7b93ff", "#e879b9", "#3ccf8e", "#b18cff", "#f0825a", "#9aa3b2"]
        : ["#0d7285", "#e09512", "#4263eb", "#d6458f", "#16a06a", "#8a5cf5", "#e0603a", "#7d8696"]

    function seriesColor(index: int): color {
        return theme.series[((index % theme.series.length) + theme.series.length) % theme.series.length];
    }

    function withAlpha(c: color, a: real): color {
        return Qt.rgba(c.r, c.g, c.b, a);
    }

    // Spending against a limit: amber from 80%, red from 100%.
    function usageColor(fraction: real): color {
        if (fraction >= 1.0)
            return theme.danger;
        if (fraction >= 0.8)
            return theme.warning;
        return theme.accent;
    }

    // Spacing scale (px; QT_SCALE_FACTOR / high-DPI scaling multiplies them)
    readonly property int space1: 4
    readonly property int space2: 8
    readonly property int space3: 12
    readonly property int space4: 16
    readonly property int space5: 24
    readonly property int space6: 32

    readonly property int radius: 8
    readonly property int radiusSmall: 6
    readonly property int controlHeight: 32

    // Type
    // The application's font (the platform's UI font): a Text item's default font.
    readonly property Text fontProbe: Text {}
    readonly property string fontFamily: theme.fontProbe.font.family
    readonly property string monoFamily: Qt.platform.os === "windows" ? "Consolas" : (Qt.platform.os === "osx" ? "Menlo" : "monospace")
    readonly property int fontCaption: 11
    readonly property int fontSmall: 12
    readonly property int fontBody: 13
    readonly property int fontTitle: 15
    readonly property int fontHeading: 20
    readonly property int fontDisplay: 26

    // Icons: SVG line icons under resources/icons/, tinted by the controls that show them.
    function icon(name: string): url {
        return Qt.resolvedUrl("../../resources/icons/" + name + ".svg");
    }

    readonly property int animationFast: 120
    readonly property int animationNormal: 200
}
