import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// A small pill with a colored dot: "Active", "Paused", "OK 200", ...
Rectangle {
    id: chip

    property string text: ""
    property color tone: Theme.ok
    property bool dot: true

    implicitWidth: row.implicitWidth + 2 * Theme.space2 + 2
    implicitHeight: 20
    radius: height / 2
    color: Theme.withAlpha(chip.tone, Theme.dark ? 0.16 : 0.10)

    RowLayout {
        id: row
        anchors.centerIn: parent
        spacing: 5

        Rectangle {
            visible: chip.dot
            implicitWidth: 6
            implicitHeight: 6
            radius: 3
            color: chip.tone
        }
        Label {
            text: chip.text
            font.pixelSize: Theme.fontCaption
            font.weight: Font.Medium
            color: chip.tone
        }
    }
}
