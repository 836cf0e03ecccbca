M=[]
def m(dtype,country,region,year,value,low,high,unit,key,tag,note): M.append([dtype,country,region,year,value,low,high,unit,key,tag,note])
Q="t REO/yr"
# China quota by ore type
m("all (quota total)","China","China","2013",93800,"","",Q,"ibtimes-quota-2014","S","(calc) 2014 total 105,000 = 2013 + 11,200 (+12%); mining.com gives 93,800 t for 2011 too")
m("rock-type (light REE) - first batch","China","China","2013",37950,"","","t REO (first batch)","chinadaily-quota-2013","S","first batch 46,900 t (half of 2012)")
m("ion-adsorption (medium-heavy REE) - first batch","China","China","2013",8950,"","","t REO (first batch)","chinadaily-quota-2013","S","")
m("all (quota total)","China","China","2014",105000,"","",Q,"ibtimes-quota-2014","S","")
m("ion-adsorption (medium-heavy REE)","China","China","2014",17900,"","",Q,"ibtimes-quota-2014","S","heavy REE quota kept at 2013 level")
m("rock-type (light REE)","China","China","2014",87100,"","",Q,"assumption-quota-split","calc","(calc) 105,000 - 17,900")
for y in ["2015","2016","2017"]:
    m("all (quota total)","China","China",y,105000,"","",Q,"smm-yunnan-2017","S","'105,000 t in recent years, nearly 20% medium and heavy'; 2017 consistent with Roskill (2018 = 2017 + 40% in H1)")
    m("ion-adsorption (medium-heavy REE)","China","China",y,17900,"","",Q,"assumption-quota-split","assumption","assumed unchanged from 2014 (17,900 = 17% of 105,000, matching lkconsult 17% heavy share of the 2016 and 2017 first batches)")
    m("rock-type (light REE)","China","China",y,87100,"","",Q,"assumption-quota-split","calc","(calc) total - ionic")
m("all (quota total)","China","China","2018",120000,"","",Q,"usgs-myb2022","P","official quota (USGS MYB 2022 T8)")
m("ion-adsorption (medium-heavy REE)","China","China","2018",19150,"","",Q,"atech-quota-2021","S","first-batch ionic index 9,575 t in 2018-2020 (x2 = 19,150)")
m("rock-type (light REE)","China","China","2018",100850,"","",Q,"assumption-quota-split","calc","(calc) 120,000 - 19,150; Inner Mongolia H1-2018 41,650 t light, Jiangxi H1 6,300 t heavy (Roskill)")
m("all (quota total)","China","China","2019",132000,127000,132000,Q,"usgs-myb2022","P","USGS/SMM 2019: 132,000; SMM 2021 review says 127,000 (conflict; its own +8,000 t to 2020 implies 132,000)")
m("ion-adsorption (medium-heavy REE)","China","China","2019",19150,"","",Q,"smm-quota-2021","S","first batch 9,575 (globaltimes-quota-2019); 2020 and 2021 increases were all light => ionic 19,150 in 2019-2021")
m("rock-type (light REE)","China","China","2019",112850,"","",Q,"assumption-quota-split","calc","(calc) 132,000 - 19,150; first batch 50,425 t light (globaltimes-quota-2019)")
m("all (quota total)","China","China","2020",140000,"","",Q,"cmgroup-quota-2020","S","")
m("ion-adsorption (medium-heavy REE)","China","China","2020",19150,"","",Q,"cmgroup-quota-2020","S","")
m("rock-type (light REE)","China","China","2020",120850,"","",Q,"cmgroup-quota-2020","S","")
m("all (quota total)","China","China","2021",168000,"","",Q,"smm-quota-2021","S","")
m("ion-adsorption (medium-heavy REE)","China","China","2021",19150,"","",Q,"smm-quota-2021","S","first batch 11,490 (atech-quota-2021)")
m("rock-type (light REE)","China","China","2021",148850,"","",Q,"smm-quota-2021","S","Northern RE +26,800 t, Southern +1,200 t y/y")
m("all (quota total)","China","China","2022",210000,"","",Q,"giti-quota-2022","S","USGS MYB 2022 T8 also 210,000")
m("ion-adsorption (medium-heavy REE)","China","China","2022",19150,"","",Q,"giti-quota-2022","S","'ionic clay quota has not increased in 3 years'; SMM: first batch medium-heavy flat y/y (~11,496 t, calc from CREG 7,806 t = 67.9%); Project Blue: 2023 unchanged y/y at 19.1 kt")
m("rock-type (light REE)","China","China","2022",190850,"","",Q,"assumption-quota-split","calc","(calc) 210,000 - 19,150; consistent with 2023 hard rock 235.85 kt being +23.5% y/y (190.97 kt)")
m("all (quota total)","China","China","2023",255000,"","",Q,"reuters-quota-2023","S","three batches (120,000 + 120,000 + 15,000)")
m("ion-adsorption (medium-heavy REE)","China","China","2023",19150,"","",Q,"projectblue-quota-2023c","S","'remained at 19.1 kt REO for 2023, exclusively CREG'; H1 10,943 t (9%), H2 ~8.2 kt (7%)")
m("rock-type (light REE)","China","China","2023",235850,"","",Q,"projectblue-quota-2023c","S","")
m("all (quota total)","China","China","2024",270000,"","",Q,"reuters-quota-2024","S","USGS MCS 2026 also 270,000")
m("ion-adsorption (medium-heavy REE) - first batch","China","China","2024",10140,"","","t REO (first batch)","fastmarkets-quota-2024","S","-7.3% y/y vs H1-2023 (Project Blue); full-year split not found")
m("ion-adsorption (medium-heavy REE)","China","China","2024",19150,17000,19150,Q,"assumption-quota-split","assumption","assumption: full-year ionic quota <= 2023 level; low = 2 x first-batch-like (~10.1 kt H1 + ~7 kt H2 by analogy to 2023 H2 share 7%)")
m("all (quota total)","China","China","2025",270000,"","",Q,"usgs-mcs2026","P","USGS estimate; 2025 quotas were not published (new interim rules Aug 2025)")
# company split (Bayan Obo proxy)
m("Bayan Obo (China Northern RE Group quota)","China","China","2023",178643,"","",Q,"horizon-quota-2023","calc","(calc) H1 80,943 (horizon) + H2 85,700 (projectblue-quota-2023) + third batch 12,000 (projectblue-quota-2023c) = 178,643 = 70.1% of 255,000. CNRE quota is hard rock only; it may include minor Shandong (Weishan) ore (not verified)")
m("Bayan Obo (China Northern RE Group quota) - first batch","China","China","2024",94580,"","","t REO (first batch)","fastmarkets-quota-2024","S","= 70.1% of the 135,000 t first batch (calc)")
m("other Chinese hard rock (CREG: mainly Sichuan Maoniuping/Dechang; Shandong?)","China","China","2023",57207,"","",Q,"assumption-quota-split","calc","(calc) 235,850 - 178,643 (22.4% of total quota); CREG H1 light 28,114 (horizon), 2024 H1 light 30,280 (fastmarkets)")
m("Bayan Obo share of hard-rock quota","China","China","2022",0.8,0.8,"","1","giti-quota-2022","S","'>80% of hard rock mining quota ... is China Northern'; SMM: CNRE 67.41% of light quota in first batch 2022")
m("ion-adsorption share of China REE production (historic)","China","China","2014",0.35,"","","1","wiki-regolith","S","regolith-hosted deposits ~35% of China's REE production (older literature, includes illegal output); quota share 2014 = 17%, 2023 = 7.5% (calc)")
# USGS country production
usgs={"Burma":{"2018":23000,"2019":29000,"2020":35500,"2021":34700,"2022":12000},"China":{},"Australia":{"2018":21000,"2019":20000,"2020":20000,"2021":24000,"2022":18000},"Malaysia":{"2018":990,"2019":66,"2020":100,"2021":60,"2022":80},"Thailand":{"2018":1000,"2019":1900,"2020":3600,"2021":8200,"2022":7100},"Vietnam":{"2018":920,"2019":1300,"2020":690,"2021":440,"2022":1200},"Brazil":{"2018":1200,"2019":710,"2020":600,"2021":500,"2022":80}}
regmap={"Burma":"Rest of Asia","Australia":"Rest of World","Malaysia":"Rest of Asia","Thailand":"Rest of Asia","Vietnam":"Rest of Asia","Brazil":"Rest of World"}
dtype={"Burma":"ion-adsorption clay","Australia":"monazite/carbonatite (Mt Weld)","Malaysia":"monazite/xenotime (tin tailings)","Thailand":"ion-adsorption clay / monazite (exports)","Vietnam":"carbonatite/placer (exports)","Brazil":"monazite; ionic clay (Serra Verde) from 2024"}
for c,d in usgs.items():
    for y,v in d.items():
        m(dtype[c],c,regmap[c],y,v,"","",Q,"usgs-myb2022","P","USGS estimate" + ("; estimated from China's reported imports" if c in ("Burma","Malaysia","Thailand","Vietnam") else "") + ("; REO content of exports" if c in ("Thailand","Vietnam") else ""))
for c,v23,v24 in [("Burma",43000,31000),("Australia",16000,13000),("Malaysia",310,130),("Thailand",3600,13000),("Vietnam",300,300),("Brazil",140,20)]:
    m(dtype[c],c,regmap[c],"2023",v23,"","",Q,"usgs-mcs2025","P","MCS 2025")
    m(dtype[c],c,regmap[c],"2024",v24,"","",Q,"usgs-mcs2025","P","MCS 2025 first estimate (revised in MCS 2026)")
for c,v24,v25 in [("Burma",27000,22000),("Australia",29000,29000),("Malaysia",140,110),("Thailand",2100,4800),("Vietnam",300,150),("Brazil",560,2000)]:
    m(dtype[c],c,regmap[c],"2024",v24,"","",Q,"usgs-mcs2026","P","MCS 2026 revised 2024 (Burma/Malaysia/Thailand/Vietnam from China import data, Trade Data Monitor)")
    m(dtype[c],c,regmap[c],"2025",v25,"","",Q,"usgs-mcs2026","P","MCS 2026 estimate" + ("; Brazil 2025 mainly Serra Verde ionic clay (USGS: 'a mine in Brazil produced mixed concentrates from ionic clays with elevated Tb and Dy')" if c=="Brazil" else ""))
# China HS2846 imports (gross weight)
ct={"Myanmar":{"2015":392,"2016":69,"2017":19958,"2018":33976,"2019":28741,"2020":35454,"2021":34670,"2022":23705,"2023":72074,"2024":44366},
"Lao PDR":{"2023":11308,"2024":10748},
"Malaysia":{"2015":4806,"2016":1745,"2017":11260,"2018":9038,"2019":10103,"2020":8146,"2021":5114,"2022":7213,"2023":19085,"2024":16345},
"World":{"2015":10634,"2016":2615,"2017":34340,"2018":69532,"2019":41084,"2020":47630,"2021":45851,"2022":44748,"2023":109286,"2024":77025}}
for c,d in ct.items():
    for y,v in d.items():
        reg={"Myanmar":"Rest of Asia","Lao PDR":"Rest of Asia","Malaysia":"Rest of Asia","World":"World"}[c]
        typ={"Myanmar":"ion-adsorption clay (mixed RE carbonates/oxides)","Lao PDR":"ion-adsorption clay","Malaysia":"Lynas LAMP products (Mt Weld ore) and other","World":"all"}[c]
        m(typ,c,reg,y,v,"","","t product (gross weight)/yr","uncomtrade-china-2846","P","China imports HS 2846 (RE compounds) by origin; product weight, not REO; USGS Burma 2020-2021 estimates (35,500; 34,700) equal these weights; ores (HS 2530/2612) not included")
m("ion-adsorption clay","Myanmar","Rest of Asia","2023",50000,42000,50000,Q,"reuters-kia-2024","S","Ord Minnett: ~50,000 t REO from IAC to China in 2023 (vs China IAC quota ~19,000 t); CSIS: nearly 42,000 t in 2023 (peak; customs), 57% of China's REE imports in 2024 (csis-cnbc-2025); USGS 43,000")
m("ion-adsorption clay","Myanmar","Rest of Asia","2024","",-0.316,-0.10,"y/y change of China imports","rawmaterials-2024","S","Jan-Nov 2024 -10% y/y (rawmaterials); full year -31.6% (wenxuecity-2025, U); UN Comtrade HS2846 weight -38% (calc: 44,366/72,074)")
m("ion-adsorption clay","Myanmar","Rest of Asia","2025-02",311,"","","t/month (REO and compounds)","reuters-myanmar-2025","S","-89% y/y; most of the fall after Oct-2024 KIA takeover")
m("ion-adsorption clay share of China HREE feedstock","Myanmar","Rest of Asia","2020",0.5,0.5,0.6,"1","reuters-myanmar-2021","S","~50% of China's heavy REE feedstock (Adamas: 2020); >60% of ion-adsorption consumption (globaltimes-myanmar-2021)")
m("SE Asian ore feedstock imports to China (Myanmar, Laos, Malaysia)","Myanmar+Laos+Malaysia","Rest of Asia","2024",60000,"","",Q,"metalnomist-2024","S","+3-5% y/y forecast (Laos up, Myanmar and Malaysia down)")
m("ion-adsorption clay (Serra Verde Pela Ema)","Brazil","Rest of World","2024",5000,5000,10000,"t REO/yr capacity","serraverde-2023","S","phase 1 >=5,000 t/yr REO in MREC; potential 10 kt by ~2030; commercial production from 2024; USGS Brazil 2025 output 2,000 t")
# IEA magnet REE mining supply
for c,reg,v in [("China","China",45.79),("Myanmar","Rest of Asia",12.07),("Australia","Rest of World",3.23),("United States","North America",6.86),("Rest of world","Rest of World",7.15)]:
    m("all (magnet REE content)",c,reg,"2024",v,"","","kt Nd+Pr+Dy+Tb/yr","iea-cmdata-2025","S","IEA base case mining supply of magnet REE; 2030: China 51.2, Myanmar 10.8, Australia 12.7, US 9.1, RoW 16.5 kt")
m("all (quota total) - first batch","China","China","2019",60000,"","","t REO (first batch)","globaltimes-quota-2019","S","50,425 light + 9,575 medium/heavy")
m("all (quota total)","China","China","2019",132000,"","",Q,"smm-quota-2019","S","+12,000 t vs 2018; smelting/separation 127,000 t")
m("all (quota total) - first batch","China","China","2017",52500,"","","t REO (first batch)","lkconsult-quota-2017","S","heavy share 17% (= 8,925 t, calc), unchanged vs 2016")
m("rock-type (light REE) - first batch, Inner Mongolia","China","China","2018",41650,"","","t REO (first batch)","roskill-quota-2018","S","29,750 t in H1-2017")
m("ion-adsorption (medium-heavy REE) - first batch, Jiangxi","China","China","2018",6300,"","","t REO (first batch)","roskill-quota-2018","S","4,500 t in H1-2017")
m("ion-adsorption (medium-heavy REE) - first batch","China","China","2022",11496,"","","t REO (first batch)","smm-quota-2022","calc","(calc) CREG 7,806 t = 67.9% of the medium/heavy quota; flat y/y (2021 first batch 11,490)")
m("ion-adsorption clay","Myanmar","Rest of Asia","2023",42000,"","",Q,"csis-cnbc-2025","S","'peak of nearly 42,000 metric tons by 2023' (Chinese customs); Myanmar ~57% of China's REE imports in 2024")
m("ion-adsorption clay","Myanmar","Rest of Asia","2024","",-0.316,"","y/y change of China imports","wenxuecity-2025","U","imports from Myanmar -31.6% y/y in 2024; total China RE raw-material imports 177,535 t (-19.2%)")
m("ion-adsorption clay (NDA-K controlled, unlicensed)","Myanmar","Rest of Asia","2023",1.4,"","","bn USD export value","rex-kia-2024","S",">300 unlicensed mines under NDA-K (Global Witness), ~1.4 bn USD REE exports to China in 2023")
m("ion-adsorption share of mining quota - H2","China","China","2023",0.07,"","","1","projectblue-quota-2023","S","H1-2023 9%; CNRE H2 85.7 kt (no ionic); CREG 31.6 kt incl. 5.5 kt ionic (8.2 kt incl. consolidated Xiamen Tungsten and Guangdong assets)")
