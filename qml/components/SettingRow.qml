pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// A setting: its name and a sentence about it on the left, the control(s) on the right.
RowLayout {
    id: setting

    required property string title
    property string description: ""
    default property alias controls: controlRow.data

    Layout.fillWidth: true
    spacing: Theme.space5

    ColumnLayout {
        Layout.fillWidth: true
        Layout.alignment: Qt.AlignTop
        spacing: 2
        Label {
            text: setting.title
            font.pixelSize: Theme.fontBody
            font.weight: Font.Medium
            color: Theme.text
        }
        Label {
            Layout.fillWidth: true
            visible: setting.description.length > 0
            text: setting.description
            wrapMode: Text.Wrap
            font.pixelSize: Theme.fontSmall
            color: Theme.textMuted
        }
    }
    // At the top, level with the title: centered, the controls drifted down by however much taller
    // than its text the row was laid out (a wrapped description is measured at its unwrapped width
    // first), up to over the next row.
    RowLayout {
        id: controlRow
        Layout.alignment: Qt.AlignRight | Qt.AlignTop
        spacing: Theme.space2
    }
}
