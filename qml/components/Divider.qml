import QtQuick
import QtQuick.Layouts

// A 1px separator line inside a card.
Rectangle {
    Layout.fillWidth: true
    implicitHeight: 1
    color: Theme.border
}
