import QtQuick
import QtQuick.Controls.impl

// A tinted line icon from resources/icons/.
IconImage {
    id: icon

    required property string iconName
    property int size: 16

    source: Theme.icon(icon.iconName)
    sourceSize.width: icon.size
    sourceSize.height: icon.size
    width: icon.size
    height: icon.size
    color: Theme.textMuted
}
