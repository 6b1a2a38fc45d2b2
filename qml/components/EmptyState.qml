pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// What a page shows when it has nothing yet, and what to do about it.
ColumnLayout {
    id: empty

    required property string iconName
    required property string title
    property string text: ""
    default property alias actions: actionRow.data

    // Centered in its parent layout (a layout whose items do not fill cannot grow past its
    // implicit width anyway).
    Layout.alignment: Qt.AlignHCenter
    spacing: Theme.space3

    Rectangle {
        Layout.alignment: Qt.AlignHCenter
        implicitWidth: 56
        implicitHeight: 56
        radius: 28
        color: Theme.accentSoft

        Icon {
            anchors.centerIn: parent
            iconName: empty.iconName
            size: 26
            color: Theme.accent
        }
    }
    Label {
        Layout.alignment: Qt.AlignHCenter
        text: empty.title
        font.pixelSize: Theme.fontTitle + 1
        font.weight: Font.DemiBold
        color: Theme.text
    }
    Label {
        Layout.alignment: Qt.AlignHCenter
        Layout.maximumWidth: 440
        visible: empty.text.length > 0
        text: empty.text
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.Wrap
        font.pixelSize: Theme.fontBody
        color: Theme.textMuted
        lineHeight: 1.15
    }
    RowLayout {
        id: actionRow
        Layout.alignment: Qt.AlignHCenter
        Layout.topMargin: Theme.space2
        spacing: Theme.space2
    }
}
