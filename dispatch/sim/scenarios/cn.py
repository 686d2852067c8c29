"""The Chinese scenario: 唐山钢城钢铁 (a steel mill in Kaiping, Tangshan, Hebei) sells 120 t of
hot-rolled strip coil to 天津港湾钢结构 (a fabricator in the Lingang area of Tianjin port, Binhai New
Area), about 126 km by the G1 around Tangshan and the Tangshan-Tianjin expressway (唐津高速, G25)
south past Fengnan, Ninghe, Hangu and Tanggu; three Chinese carriers with Hebei, Tianjin,
new-energy and trailer plates bid in CNY (some 30 to 34 CNY a tonne); the story is told in Chinese.

Coordinates are WGS-84 (what phones report), not the GCJ-02 of Chinese map tiles."""

from __future__ import annotations

from dispatch.sim.geography import Road, square
from dispatch.sim.scenarios.shape import (
    AROUND_THE_CLOCK,
    Address,
    Cargo,
    Carrier,
    CountrySettings,
    Drivers,
    Organization,
    Paperwork,
    Person,
    Scenario,
    Site,
    Truck,
)
from geo import Position

TIMEZONE = "Asia/Shanghai"

MILL = Position(118.2860, 39.6905)  # the works' gate 3, Kaiping district, east of Tangshan
YARD = Position(117.7320, 38.9150)  # the fabricator's yard, Lingang, south of the Haihe mouth
ROAD = [
    MILL,
    Position(118.2815, 39.7010),
    Position(118.2760, 39.7150),
    Position(118.2700, 39.7330),  # onto the G1 north of the city
    Position(118.2400, 39.7480),
    Position(118.2000, 39.7570),
    Position(118.1600, 39.7610),
    Position(118.1200, 39.7620),
    Position(118.0850, 39.7560),
    Position(118.0500, 39.7420),  # the junction with the Tangshan-Tianjin expressway
    Position(118.0330, 39.7150),
    Position(118.0250, 39.6800),
    Position(118.0280, 39.6400),  # west of Tangshan
    Position(118.0350, 39.6000),
    Position(118.0420, 39.5650),  # Fengnan
    Position(118.0180, 39.5250),
    Position(117.9850, 39.4870),
    Position(117.9480, 39.4500),  # Huanggezhuang
    Position(117.9100, 39.4120),
    Position(117.8750, 39.3700),  # into Tianjin, Ninghe
    Position(117.8520, 39.3250),
    Position(117.8330, 39.2800),  # Hangu
    Position(117.8100, 39.2350),
    Position(117.7820, 39.1900),
    Position(117.7500, 39.1500),
    Position(117.7200, 39.1130),
    Position(117.6950, 39.0780),  # Hujiayuan, north of Tanggu
    Position(117.6870, 39.0480),
    Position(117.6930, 39.0260),  # Tanggu, onto the Haibin Avenue
    Position(117.7000, 39.0000),
    Position(117.7080, 38.9750),  # under the Haihe
    Position(117.7150, 38.9500),
    Position(117.7230, 38.9280),
    YARD,
]

CN = Scenario(
    name="cn",
    language="zh-CN",
    currency="CNY",
    mill=Organization("唐山钢城钢铁有限公司", ("shipper",), "admin@tsgangcheng.demo"),
    buyer=Organization("天津港湾钢结构有限公司", ("consignee",), "admin@tjgangwan.demo"),
    seller=Person("王丽", "sales@tsgangcheng.demo", "shipper"),
    gate_staff=Person("张建国", "gate@tsgangcheng.demo", "gate_staff"),
    clerk=Person("李娜", "receiving@tjgangwan.demo", "buyer"),
    carriers=(
        Carrier(
            Organization("冀东联运物流有限公司", ("carrier",), "dispatch@jidongwuliu.demo"),
            (
                Truck("冀B·5K821", 32_000),
                Truck("冀B·6T927", 32_000),
                Truck("冀B·71452", 32_000),
                Truck("冀B·2Q806", 34_000),
                Truck("冀B·0937挂", 34_000),  # known at the gate by its semi-trailer's plate
            ),
            cost_floor_minor=330_000,
            driver_domain="jidong0.demo",
        ),
        Carrier(
            Organization("天津港顺达运输有限公司", ("carrier",), "dispatch@tjshunda.demo"),
            (
                Truck("津A·8K236", 31_000),
                Truck("津A·5N702", 31_000),
                Truck("津A·6P118", 31_000),
                Truck("津A·9R450", 31_000),
                Truck("津A·3L667", 31_000),
            ),
            cost_floor_minor=345_000,
            driver_domain="shunda1.demo",
        ),
        Carrier(
            # Battery-electric heavy trucks (green new-energy plates: five digits, then D); the
            # battery costs them some payload.
            Organization("唐山绿驰新能源运输有限公司", ("carrier",), "dispatch@lvchi.demo"),
            (
                Truck("冀B·06218D", 30_000),
                Truck("冀B·06219D", 30_000),
                Truck("冀B·06225D", 30_000),
                Truck("冀B·06231D", 30_000),
                Truck("冀B·06232D", 30_000),
            ),
            cost_floor_minor=338_000,
            driver_domain="lvchi2.demo",
        ),
    ),
    drivers=Drivers(
        names=("刘强", "陈伟", "杨帆", "赵磊", "黄海涛", "周勇"),
        phone="+86 139 0315 0000",
        licence_prefix="130205",  # a licence number is the holder's 18-digit ID number
        licence_digits=12,
    ),
    carrier_area=("唐山及周边", 150),
    works=Site(
        name="唐山钢城钢铁 热轧厂3号门",
        address=Address(
            "CN",
            "河北省唐山市开平区钢城路8号",
            (
                ("province", "河北省"),
                ("city", "唐山市"),
                ("district", "开平区"),
                ("street", "钢城路"),
                ("number", "8号"),
            ),
        ),
        location=MILL,
        geofence=square(MILL, 500),
        timezone=TIMEZONE,
        docks=("1号装车位", "2号装车位", "3号装车位"),
        opening_hours=AROUND_THE_CLOCK,
    ),
    yard=Site(
        name="天津港湾钢结构 临港厂区",
        address=Address(
            "CN",
            "天津市滨海新区临港经济区渤海十路168号",
            (
                ("province", "天津市"),  # a municipality: province and city at once
                ("district", "滨海新区"),
                ("street", "临港经济区渤海十路"),
                ("number", "168号"),
            ),
        ),
        location=YARD,
        geofence=square(YARD, 500),
        timezone=TIMEZONE,
        docks=("1号卸车位", "2号卸车位"),
        opening_hours=AROUND_THE_CLOCK,
        shared=True,
    ),
    road=Road.of(ROAD),
    origin={"en": "Tangshan", "zh-CN": "唐山"},
    destination={"en": "Tianjin port", "zh-CN": "天津港"},
    cargo=Cargo(
        description="热轧带钢卷 Q235B，宽355 mm",
        coils=24,
        coil_kg=5_000,  # 24 x 5 t = 120 t, six coils a truck
        coil_m3=0.9,
        notes="钢卷须放鞍座、捆绑加固，须加护角。",
        reference="TSGC-2026-0815",
        ceiling_minor=420_000,  # CNY 4,200 for the whole order: 35 CNY a tonne
        open_offers=(
            ("TSGC-2026-0816", 6, 108_000),
            ("TSGC-2026-0817", 12, 198_000),
            ("TSGC-2026-0818", 4, 76_000),
        ),
    ),
    paperwork=Paperwork(
        photo_caption="{items}卷已捆绑加固，护角已装",
        weighbridge_id="2号地磅",
        seal_prefix="TG",
        sample_description="质量证明书（材质单）",
        shortage_note="对照送货单少{coils}卷，铅封完好",
        receipt_note="已通知承运方和钢厂。",
    ),
    settings=CountrySettings(country="CN", currency="CNY", timezone=TIMEZONE, locale="zh-CN"),
)
