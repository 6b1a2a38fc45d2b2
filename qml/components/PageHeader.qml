pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic
import QtQuick.Layouts

// The title row of a page: title, one line of explanation, actions on the right.
RowLayout {
    id: header

    required property string title
    property string subtitle: ""
    default property alias actions: actionRow.data

    spacing: Theme.space4

    ColumnLayout {
        Layout.fillWidth: true
        spacing: 2

        Label {
            text: header.title
            font.pixelSize: Theme.fontHeading
            font.weight: Font.DemiBold
            color: Theme.text
            Accessible.role: Accessible.Heading
        }
        Label {
            Layout.fillWidth: true
            visible: header.subtitle.length > 0
            text: header.subtitle
            font.pixelSize: Theme.fontBody
            color: Theme.textMuted
            wrapMode: Text.Wrap
        }
    }
    RowLayout {
        id: actionRow
        Layout.alignment: Qt.AlignRight | Qt.AlignVCenter
        spacing: Theme.space2
    }
}
