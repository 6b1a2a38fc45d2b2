pragma ComponentBehavior: Bound

import QtQuick
import QtQuick.Layouts

// The header band of a table inside a rounded frame: rounded at the top, square and ruled at the
// bottom. Its children are the column headers, laid out in a row with the table's margins.
Rectangle {
    id: band

    default property alias columns: row.data

    implicitHeight: 34
    color: Theme.surfaceAlt
    radius: Theme.radius

    // Squares off the bottom corners.
    Rectangle {
        anchors.bottom: parent.bottom
        width: parent.width
        height: Theme.radius
        color: Theme.surfaceAlt
    }
    Rectangle {
        anchors.bottom: parent.bottom
        width: parent.width
        height: 1
        color: Theme.border
    }

    RowLayout {
        id: row
        anchors.fill: parent
        anchors.leftMargin: Theme.space4
        anchors.rightMargin: Theme.space4
        spacing: Theme.space3
    }
}
