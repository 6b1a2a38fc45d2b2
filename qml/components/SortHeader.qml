pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Controls.Basic

// A table column header that sorts by its column when clicked: `sortKey` is the column, `sortBy`
// and `descending` the table's current order; the arrow shows on the sorted column.
AbstractButton {
    id: header

    required property string sortKey
    property string sortBy: ""
    property bool descending: true
    property int alignment: Text.AlignLeft
    readonly property bool sorted: header.sortBy === header.sortKey

    implicitHeight: 28
    implicitWidth: label.implicitWidth
    focusPolicy: Qt.StrongFocus
    hoverEnabled: true
    Accessible.role: Accessible.ColumnHeader
    Accessible.name: header.text + (header.sorted ? (header.descending ? qsTr(", sorted descending") : qsTr(", sorted ascending")) : "")
    ToolTip.visible: header.hovered && label.truncated
    ToolTip.text: header.text
    ToolTip.delay: 500

    background: Rectangle {
        color: "transparent"
        radius: Theme.radiusSmall
        border.width: header.visualFocus ? 2 : 0
        border.color: Theme.accent
    }
    contentItem: ColumnHeader {
        id: label
        text: header.text + (header.sorted ? (header.descending ? " ↓" : " ↑") : "")
        horizontalAlignment: header.alignment
        verticalAlignment: Text.AlignVCenter
        color: header.sorted ? Theme.text : header.hovered ? Theme.text : Theme.textMuted
    }
}
