R=[]
def r(item,element,region,year,value,low,high,unit,key,tag,note): R.append([item,element,region,year,value,low,high,unit,key,tag,note])
# 1 atomic weights (CIAAW 2021 Table 1)
aw=[("Nd","144.242","0.003","g"),("Pr","140.90766","0.00001",""),("Dy","162.500","0.001","g"),("Tb","158.925354","0.000007",""),("La","138.90547","0.00007","g"),("Ce","140.116","0.001","g"),("Y","88.905838","0.000002","")]
for el,v,u,fn in aw:
    lo=f"{float(v)-float(u):.6f}".rstrip('0'); hi=f"{float(v)+float(u):.6f}".rstrip('0')
    r("standard_atomic_weight",el,"","",v,lo,hi,"1 (Ar)","ciaaw-2021","P",f"Ar°({el}) = {v} ± {u}; CIAAW footnote: {fn or 'none'}; 2021 table (Prohaska et al. 2022)")
r("standard_atomic_weight","O","","","15.999","15.99903","15.99977","1 (Ar)","ciaaw-2021","P","interval [15.99903, 15.99977]; abridged 15.999 ± 0.001 used for oxide factors (footnote m)")
# oxide factors
ox=[("Nd","Nd2O3","0.85736","0.857348","0.857358","1.16638"),("Pr","Pr6O11","0.82770","0.827697","0.827704","1.20816"),("Dy","Dy2O3","0.87132","0.871315","0.871321","1.14768"),("Tb","Tb4O7","0.85022","0.850209","0.850215","1.17617"),("La","La2O3","0.85268","0.852677","0.852683","1.17277"),("Ce","CeO2","0.81409","0.814080","0.814089","1.22837"),("Y","Y2O3","0.78744","0.787436","0.787444","1.26993")]
for el,f,v,lo,hi,inv in ox:
    r("element_mass_fraction_of_oxide",el,"","",v,lo,hi,f"kg {el}/kg {f}","calc-oxide-factors","calc",f"{f}: trade/reporting formula; inverse (oxide per element) = {inv}; range from O interval and RE uncertainty")
for el,f,v,inv in [("Pr","Pr2O3","0.85447","1.17031"),("Tb","Tb2O3","0.86881","1.15100"),("Ce","Ce2O3","0.85377","1.17128")]:
    r("element_mass_fraction_of_oxide_alternative",el,"","",v,"","",f"kg {el}/kg {f}","calc-oxide-factors","calc",f"alternative stoichiometry {f} (not the usual trade form); inverse {inv}. Using Pr2O3 instead of Pr6O11 changes Pr by 3.2%")
# 5 demand: IEA CM dataset 2025 (base year 2024), kt element
iea={ # from iea2025.json cleantechByMineral
"Nd":{"2024":14.567,"STEPS":{"2030":29.3371,"2035":35.8275,"2040":36.2676,"2050":43.8847},"APS":{"2030":36.1562,"2040":46.5616,"2050":58.8587},"NZE":{"2030":48.2387,"2040":54.5577,"2050":61.1155}},
"Pr":{"2024":2.32253,"STEPS":{"2030":4.69087,"2035":5.74762,"2040":5.7391,"2050":7.10674},"APS":{"2030":5.94513,"2040":7.51136,"2050":9.97356},"NZE":{"2030":7.95789,"2040":8.8462,"2050":10.5276}},
"Dy":{"2024":1.53113,"STEPS":{"2030":2.98587,"2035":3.58054,"2040":3.61934,"2050":4.39115},"APS":{"2030":3.69939,"2040":4.69797,"2050":5.99489},"NZE":{"2030":4.96682,"2040":5.60997,"2050":6.40223}},
"Tb":{"2024":0.434428,"STEPS":{"2030":0.832775,"2035":0.985837,"2040":0.955029,"2050":1.23081},"APS":{"2030":1.09317,"2040":1.27782,"2050":1.78443},"NZE":{"2030":1.45238,"2040":1.51005,"2050":1.87728}},
}
for el,d in iea.items():
    r("clean_tech_demand_EV_plus_wind",el,"World","2024",d["2024"],"","","kt/yr","iea-cmdata-2025","S","IEA CM dataset sheet 3.2 (clean technologies = EVs + wind only for magnet REE); historical estimate")
    for sc in ["STEPS","APS","NZE"]:
        for y,v in d[sc].items():
            r(f"clean_tech_demand_EV_plus_wind_{sc}",el,"World",y,v,"","","kt/yr","iea-cmdata-2025","S",f"IEA {sc} projection; element content")
r("magnet_REE_total_demand","Nd+Pr+Dy+Tb","World","2024","90.92","","","kt/yr","iea-cmdata-2025","S","sheet 1: total demand = clean tech 18.86 kt (wind 10.50, EVs 8.36) + other uses 72.07 kt; clean-tech share 20.7%")
for sc,vals in [("STEPS",{"2030":122.85,"2035":140.12,"2040":149.58,"2050":177.52}),("APS",{"2030":131.57,"2040":162.68,"2050":197.31}),("NZE",{"2030":146.77,"2040":172.42,"2050":200.26})]:
    for y,v in vals.items():
        r(f"magnet_REE_total_demand_{sc}","Nd+Pr+Dy+Tb","World",y,v,"","","kt/yr","iea-cmdata-2025","S","incl. other uses (other uses 85.0 kt 2030, 120.9 kt 2050 in STEPS)")
r("magnet_REE_total_demand","Nd+Pr+Dy+Tb","World","2023","93","","","kt/yr","iea-gcmo2024","S","GCMO 2024 (2023 base year; the 2025 dataset gives 90.9 kt for 2024); nearly doubled 2015-2023")
r("magnet_REE_total_demand_APS","Nd+Pr+Dy+Tb","World","2030","131","","","kt/yr","iea-gcmo2024","S","GCMO 2024 APS")
r("magnet_REE_total_demand_APS","Nd+Pr+Dy+Tb","World","2050","181","","","kt/yr","iea-gcmo2024","S","GCMO 2024 APS; EV share of demand 7% (2023) -> ~30% (2050)")
r("magnet_REE_mine_supply_base_case","Nd+Pr+Dy+Tb","World","2030","107","","","kt/yr","iea-gcmo2024","S","GCMO 2024: operating+announced projects, +44% vs 2023; 116 kt in 2040")
# IEA implied element shares (calc)
for app,sh,yr in [("EVs",{"Nd":78.55,"Pr":11.78,"Dy":8.07,"Tb":1.60},"2024"),("wind",{"Nd":75.96,"Pr":12.50,"Dy":8.43,"Tb":3.10},"2024"),("clean tech total",{"Nd":77.26,"Pr":12.32,"Dy":8.12,"Tb":2.30},"2024"),("clean tech total STEPS",{"Nd":77.52,"Pr":12.55,"Dy":7.76,"Tb":2.17},"2050"),("wind STEPS",{"Nd":73.55,"Pr":12.55,"Dy":9.36,"Tb":4.55},"2050"),("EVs STEPS",{"Nd":78.82,"Pr":11.82,"Dy":7.73,"Tb":1.63},"2050")]:
    for el,v in sh.items():
        r(f"IEA_implied_share_of_magnet_REE_{app.replace(' ','_')}",el,"World",yr,v,"","","% of Nd+Pr+Dy+Tb","iea-cmdata-2025","calc","(calc) element / sum of 4 elements in IEA sheets 4.2/4.3/3.2; IEA keeps Dy share ~8% to 2050 (no HRE thrifting visible); wind Dy+Tb share rises (more offshore DD)")
# supply IEA magnet REE by country
for c,v24,v30 in [("China","45.79","51.22"),("Myanmar","12.07","10.77"),("Australia","3.23","12.72"),("United States","6.86","9.15"),("Rest of world","7.15","16.45"),("World","75.10","100.30")]:
    r("magnet_REE_mining_supply","Nd+Pr+Dy+Tb",c,"2024",v24,"","","kt/yr","iea-cmdata-2025","S",f"sheet 2 mining, base case; 2030 = {v30} kt; Myanmar = 16.1% of world magnet-REE mining in 2024 (calc)")
for c,v24,v30 in [("China","73.76","81.13"),("Malaysia","3.63","10.10"),("Australia","0.00","2.54"),("United States","0.96","7.13"),("Rest of world","2.46","5.79"),("World","80.81","106.68")]:
    r("magnet_REE_refining_supply","Nd+Pr+Dy+Tb",c,"2024",v24,"","","kt/yr","iea-cmdata-2025","S",f"sheet 2 refining, base case; 2030 = {v30} kt; China 91.3% in 2024 (calc)")
r("refined_REE_share_China","all REE","China","2023","0.92","","","1","iea-gcmo2024","S","China 92%, Malaysia 5% (2023); 2030 China 77%, Malaysia 12%, Australia 3%")
r("mined_REE_share_China_IEA_basis","all REE","China","2023","0.62","","","1","iea-gcmo2024","S","top-3 (China, Australia, Myanmar) 85%; 2030: China 54%, Australia 18%, Myanmar 9%")
# oxide production Dy, Tb, PrNd
r("oxide_production_China","Dy","China","2024","2580","2570","3500","t Dy2O3/yr","smm-hre-2024","calc","(calc) SMM monthly 215.5 t (May-2024) and 214 t (Jun-2024) x 12 = 2,570-2,590 t; high = Argus ~3,500 t 2024 (+12%). Includes oxide from imported Myanmar/Laos feed and probably recycling")
r("oxide_production_China","Dy","China","2024","3500","","","t Dy2O3/yr","argus-viewpoint-2025","S","market participants' estimate, +12% y/y (implies ~3,100 t in 2023)")
r("oxide_production_China","Tb","China","2024","490","","","t Tb4O7/yr","smm-hre-2024","calc","(calc) 40.8 t/month (May and Jun 2024) x 12")
r("oxide_production_China","Tb","China","2024","650","","","t Tb4O7/yr","argus-viewpoint-2025","S","+12% y/y; Tb metal output ~380 t (-16%)")
r("oxide_production_world","Dy","World","2021","3126","","","t Dy/yr","jrc-rmis-dy","U","China 40%, Myanmar 31%, Australia 20% (basis unclear: probably contained in mine output)")
r("oxide_production_China","Dy","China","2022","1100","1000","1200","t Dy2O3/yr","sputnik-2025","U","conflicts with SMM/Argus order of magnitude (2.6-3.5 kt); not recommended")
r("oxide_production_China","Nd+Pr","China","2024","106000","88000","106000","t PrNd oxide/yr","argus-viewpoint-2025","S","output ~106 kt, consumption ~96 kt (oxide); metal output ~88 kt, consumption ~80 kt; low = SMM Jun-2024 7,325 t x 12 = 87.9 kt (calc)")
r("oxide_production_China_from_quota","Nd+Pr","China","2024","45000","44500","45500","t PrNd oxide/yr","metalnomist-2024","S","from domestic mining quota (2023 ~40,000 t); forecast made mid-2024")
r("oxide_production_China_from_imported_ore","Nd+Pr","China","2024","20500","20000","21000","t PrNd oxide/yr","metalnomist-2024","S","from SE Asian and US feedstock; SE Asia ore imports ~60,000 t REO in 2024")
r("oxide_production_China_from_scrap","Nd+Pr","China","2023","31730","","","t PrNd oxide/yr","argus-2025-recycling","S","2024: 26,504 t; total REO from NdFeB scrap 39,662 t (2023), 34,147 t (2024)")
r("oxide_production_China_from_scrap","Nd+Pr","China","2024","26504","","","t PrNd oxide/yr","argus-2025-recycling","S","check: quota 45 kt + imports 20.5 kt + scrap 26.5 kt = 92 kt (calc) vs Argus output 106 kt")
r("oxide_production_nonChina","Nd+Pr","Rest of World","2023","6142","","","t PrNd oxide/yr","lynas-ar-2023","P","Lynas FY23 (Mt Weld ore, separated in Malaysia = Rest of Asia); 16,780 t REO total")
r("oxide_production_nonChina","Nd+Pr","North America","2024","1294","","","t PrNd oxide/yr","mp-q4-2024","S","MP Materials 2024; 45,455 t REO in concentrate")
r("first_nonChina_separated_HREE","Dy","Rest of Asia","2025","","","","event","lynas-hre-2025","S","May 2025: Lynas produced Dy oxide at LAMP (Malaysia); Tb planned next")
# magnets
r("NdFeB_output_China","","China","2023","280000","","","t magnet/yr","argus-viewpoint-2025","S","Acrei magnet branch")
r("NdFeB_output_China","","China","2024","300000","","","t magnet/yr","argus-viewpoint-2025","S","Acrei magnet branch, +7%")
r("CeFeB_output_China","Ce","China","2023","80000","","","t magnet/yr","argus-viewpoint-2025","S","cerium-iron-boron (Ce-substituted NdFeB) magnets")
r("CeFeB_output_China","Ce","China","2024","95000","90000","100000","t magnet/yr","argus-viewpoint-2025","S","a major EV plant reportedly switching part of its NdFeB to CeFeB")
r("magnet_share_of_Ce_oxide_consumption","Ce","World","2022","0.18","","","1","adamas-cefeb","S","'last year' (article c. 2023; year uncertain); 5% in 2017")
r("JL_Mag_output","","China","2024","29300","","","t blanks/yr","jlmag-2024","S","~20,900 t finished; sales mix ~50% NEV, ~25% inverter air-con, ~7% wind")
# GBD / thrifting trend
r("GBD_HRE_reduction_vs_bulk","Dy","World","2005","0.5","0.3","0.7","fraction less HRE at same HcJ","trout-dy20","S","GBD in use since ~2005; 'roughly 50% less Dy'")
r("GBD_HRE_reduction_vs_bulk","Dy+Tb","World","2025","0.45","0.3","0.6","fraction less HRE at same HcJ","mainrich-gbd","S","vendor: 30-60% less; GBD dominant for thin (5-8 mm) traction-motor magnets; bulk alloying still needed for thick blocks")
r("GBD_HRE_reduction_vs_bulk","Dy+Tb","China","2025","0.5","0.3","0.7","fraction less HRE at same HcJ","rex-baotou-gbd","S","Baotou RE Research Institute pilot line, N50 -> 50UH/52SH")
r("HRE_content_conventional_vs_GBD","Dy+Tb","China","2021","3","0.6","3","wt% of magnet","mainrich-gbd","S","case study, H-grade lawn-mower motor magnets: >=3% HRE bulk-alloyed -> <0.6% with GBD (3M+ motors in 2021)")
r("Dy_reduction_programme","Dy","Japan","2011","0.4","","","fraction reduction","nedo-dy-2011","S","NEDO FY2007-2011 project (target 30%) achieved 40% less Dy (fine-grain He jet milling)")
r("Dy_reduction_OEM","Dy","Japan","2012","0.4","","","fraction reduction","asahi-honda-2016","S","Nissan Leaf motor magnets, 2012")
r("HRE_free_traction_magnet","Dy+Tb","Japan","2016","0","","","wt% of magnet","asahi-honda-2016","S","Honda/Daido hot-deformed HRE-free magnet, Freed hybrid (i-DCD) 2016; 22 kW/160 Nm motor")
r("HRE_free_Nd_reduced_magnet","Dy+Tb","Japan","2018","0","","","wt% of magnet","nedo-toyota-2018","P","Toyota: zero Tb/Dy, up to 50% of Nd replaced by La+Ce; target power steering early 2020s, EV traction within a decade")
r("HRE_reduction_OEM","Dy+Tb","North America","2023","0.25","","","fraction reduction","tesla-2023","S","Tesla 2023 Investor Day: 25% less heavy REE than initially; '~520 g per car' (unclear whether heavy or total RE)")
r("HRE_consumption_trend_China","Dy+Tb","China","2024","","","","qualitative","argus-dytb-2024","S","Chinese magnet makers 'have cut their consumption of Dy and Tb significantly in the past decade'")
r("Tb_use_in_automotive_magnets","Tb","World","2018","","","","qualitative","aaaminds-roskill-2018","S","Roskill (quoted in aaaminds.com 2018-03-01 on the Toyota release): few automakers use Tb in magnets anymore; Dy still commonly added")
r("Dy_per_EV","Dy","World","2025","65","","","g Dy/vehicle","rovjok-dy","U","'each million EVs needs ~65 t Dy at today's loading'")
r("GBD_diffusion_source_intensity","Dy+Tb","World","2021","6","","","kg HRE/t magnet","mainrich-gbd","calc","(calc) <0.6 wt% HRE in a GBD H-grade magnet = <6 kg Dy/Tb per t magnet; no primary figure for diffusion-source consumption (Tb/Dy metal, TbF3, DyF3) per t found")
# yields
r("oxide_to_metal_loss","all REE","World","","0.20","","","fraction lost","heim-2023","P","Heim & Vander Wal (citing their ref. 7); no element-specific values found")
r("separation_recovery_industry_average","all REE","World","","0.55","0.50","0.60","fraction recovered","mit-2016-refining","U","weak secondary; not element-specific")
r("ore_to_concentrate_recovery","all REE","Europe","","0.832","","","fraction recovered","tjtzm-romex","U","Romex (Russia) project design figure")
r("oxalate_precipitation_recovery","Nd+Pr+Dy","World","","0.967","0.93","0.981","fraction of REE in leach solution","klemettinen-oxalate","A","stoichiometric oxalic acid 93%; +20% excess 96.7%; +40% excess 98.1% (Fe co-precipitation starts)")
r("hydromet_leach_recovery_one_shot","Nd+Pr+Dy","World","","1.0","0.5","1.0","fraction recovered","kitagawa-2017","A","'almost full recovery' in one-shot HCl leach + oxalate; ~50% per pass in closed-loop triple extraction")
r("magnet_manufacturing_waste_share","all REE","World","","","0.06","0.73","fraction of input","metals-2023-scrap","A","'6-73% of industrial waste will be produced in the manufacturing process of magnets'; scrap ~30 wt% RE")
r("HPMS_composition_retained","Nd+Pr+Dy+Tb","Europe","","1.0","","","ratio (recycled/original composition)","hpms-birmingham","S","hydrogen processing yields alloy powder reprocessable 'directly back into NdFeB' = composition carried over (no element separation); ~10% of primary energy")
r("Dy_recycled_share_of_mined","Dy","World","2021","0.03","","0.03","fraction","eheliyagoda-2023","A","'<3% of globally mined Dy was recycled' (1988-2021); 22,009 t Dy in intermediate products entered manufacturing 1988-2021, China ~55%")
r("recoverable_from_waste_HDD","Nd","Europe","2014","850","","","kg/yr","reegain-hdd","S","Denmark, waste computer HDDs; Pr 140 kg, Dy 40 kg")
r("EU_flow_into_use_PM","Nd","Europe","2010","1230","","","t/yr","guyonnet-2015","A","Dy in PMs 230 t (Dy/Nd = 0.187, calc); Nd in batteries 120 t; Tb in lamp phosphors 35 t")
r("EU_flow_into_use_PM","Dy","Europe","2010","230","","","t/yr","guyonnet-2015","A","")
r("China_Dy_mining_by_province","Dy","China","2011-2020","0.46","","","share from Jiangxi","china-dy-mfa","U","Jiangxi 46% of Dy mining 2011-2020")
# prices (not needed but available)
for el,vals,key,unit in [("Tb",{"2021":1340,"2022":2050,"2023":1300,"2024":812,"2025":1010},"usgs-mcs2026-heavy","USD/kg Tb4O7 99.99% fob China"),("Dy",{"2021":410,"2022":382,"2023":330,"2024":257,"2025":239},"usgs-mcs2026-heavy","USD/kg Dy2O3 99.5% fob China")]:
    for y,v in vals.items(): r("price",el,"China",y,v,"","",unit,key,"P","Argus/Asian Metal via USGS; 2025 estimated")
for el,v21,v22 in [("La",2,1),("Ce",2,1),("Pr",93,128),("Nd",98,134),("Tb",1350,2050),("Dy",410,382)]:
    r("price",el,"China","2021",v21,"","","USD/kg oxide fob China","usgs-myb2022-t2","P","MYB 2022 Table 3 (Argus)"); r("price",el,"China","2022",v22,"","","USD/kg oxide fob China","usgs-myb2022-t2","P","MYB 2022 Table 3 (Argus)")
# balance problem
r("balance_magnet_REE_share_of_REE_content","Nd+Pr+Dy+Sm","World","2022","0.25","","0.25","fraction of REE content","sims-2022","P","'less than 25% of the overall REE content'")
r("balance_LaCe_share_of_production","La+Ce","World","2022","0.70","0.70","","fraction of production volume","sims-2022","P","'greater than 70% of total production volume'; unsold La/Ce returned to mine as spoils; global production ~240 kt/y")
r("balance_magnet_elements_share_of_refined_supply","Nd+Pr+Dy+Tb","World","2020","0.27","","","fraction of refined supply","roskill-2021","S","refined supply 147.5 kt REO in 2020; oversupply from balancing 16 co-products")
r("balance_critical_outlook","Nd","World","2018","","","","qualitative","binnemans-2018","P","Binnemans et al. 2018: of Nd, Eu, Tb, Dy, Y only Nd expected to remain critical in the medium term; magnets/catalysts/alloys rising, NiMH/phosphors falling")
r("balance_market_driver","La+Ce","World","2013","","","","qualitative","binnemans-2013-jom","S","market preferably driven by abundant Ce/La; NdFeB recycling reduces mining and La/Ce surplus")
for dep,ce,lace,dy,tb,ndfrac in [("Bayan Obo",2.02,2.96,0.0040,0.0040,0.749),("Maoniuping",2.43,3.93,0.0107,0.0061,0.774),("Mountain Pass",3.07,5.21,0,0,0.736),("Mount Weld CLD",2.04,3.07,0.0107,0.0039,0.778),("Xunwu (LREE ionic)",0.09,1.10,0.0471,0.0122,0.803),("Xinfeng (medium-Y ionic)",0.14,1.32,0.1601,0.0293,0.757),("Longnan (HREE ionic)",0.24,0.72,1.644,0.2484,0.763)]:
    r("coproduct_ratio_(La+Ce)/(Nd+Pr)","La+Ce",dep,"",lace,"","","t REO per t NdPr REO","usgs-myb2022-t2","calc",f"(calc) from USGS T2; Ce/NdPr = {ce}; Dy/NdPr = {dy}; Tb/NdPr = {tb}")
    r("NdPr_split_Nd/(Nd+Pr)","Nd",dep,"",ndfrac,"","","fraction of NdPr REO","usgs-myb2022-t2","calc","(calc) natural Nd:Pr ratio in ore; supports ~75:25 PrNd oxide")
# balance calc results 2024
for el,c,lo,hi in [("La","99500","87900","104500"),("Ce","166900","166000","167100"),("Nd","65300","58800","71200"),("Pr","21100","19000","21900"),("Dy","2170","1270","3910"),("Tb","650","550","860"),("Y","12100","5500","30800")]:
    r("mined_supply_estimate_by_element",el,"World","2024",c,lo,hi,"t REO/yr","assumption-balance-calc","assumption","(calc) 384 kt REO x deposit proxies; low/high = ionic clays (China quota + Burma) as Xunwu (LREE) vs Longnan (HREE) type; central Xinfeng type; see README")
r("mined_supply_estimate_magnet_REE","Nd+Pr+Dy+Tb","World","2024","75900","70300","80700","t element/yr","assumption-balance-calc","assumption","(calc) same; compare IEA magnet-REE mining supply 75.1 kt (2024) and demand 90.9 kt: gap covered by recycling (26.5 kt PrNd oxide from scrap in China) and stocks")
r("mined_supply_ratio_(La+Ce)/(Nd+Pr)","La+Ce","World","2024","3.08","2.92","3.26","t/t REO","assumption-balance-calc","assumption","(calc) world co-production: ~3 t La+Ce REO per t NdPr REO mined")
# events / shocks
ev=[("Myanmar_coup_disruption","2021-02-01","Burma","globaltimes-myanmar-2021","S","military coup; shipments to China delayed from mid-March 2021; Myanmar >60% of China's ion-adsorption consumption"),
("Myanmar_border_closure_Covid","2021-07","Burma","reuters-myanmar-2021","S","Tengchong crossing shut mid-July 2021; Aug-2021 compound imports 23 t (-91.8% m/m), oxide imports 70 t (-93.5%); China relies on Myanmar for ~50% of HREE feedstock"),
("Myanmar_imports_recovery","2023-H1","Burma","rawmaterials-myanmar-2023","S","H1-2023 imports ~9x H1-2022 and +70% vs H2-2022 after Covid-era transshipment hubs reopened (from May 2023); 2021 zero-Covid import ban"),
("KIA_capture_Pangwa_Chipwi","2024-10","Burma","reuters-kia-2024","S","KIA seized Pangwa and Chipwe mining hub (Kachin); China halted imports from Myanmar in Sep-2024 and suspended ammonium sulphate exports; shipments suspended (SMM)"),
("KIA_border_closure","2024-11-12","Burma","rfa-kia-2024","S","KIA closed Mai Ja Yang, Lai Zar, Pang War crossings (RFA); KIA captured Kanpaiti in Nov 2024 and later imposed a 35,000 yuan/t tax on resumed stockpile exports (Rare Earth Exchanges, AP)"),
("Myanmar_imports_Feb2025","2025-02","Burma","reuters-myanmar-2025","S","China imports of REO and compounds from Myanmar 311 t in Feb-2025, -89% y/y; KIA area ~half of global HREE production"),
("China_export_controls_7_MHREE","2025-04-04","China","hklaw-2025","S","MOFCOM/GAC Announcement 18: licences for Sm, Gd, Tb, Dy, Lu, Sc, Y (metals, oxides, alloys incl. SmCo/TbCo/DyFe, compounds, mixtures, and magnets containing them), effective immediately"),
("China_export_controls_expanded","2025-10","China","usgs-mcs2026-heavy","P","early Oct 2025: controls expanded to all HREE; Nov 2025: the October controls suspended for 1 year; April controls remain; general licences to selected exporters from Dec 2025"),
("Dy_Tb_export_drop","2025-10","China","rawmaterials-dytb-2025","S","Dy exports Jan-Oct 2025 -27% y/y, Tb -20%"),
("Europe_price_spike","2025-05","Europe","smm-exportcontrol-2025","S","Dy oxide price in Europe nearly x3, Tb oxide >x2 within one month; Chinese domestic prices stable"),
]
for item,date,reg,key,tag,note in ev: r("event_"+item,"Dy+Tb",reg,date,"","","","event",key,tag,note)
r("EV_NdPr_oxide_demand","Nd+Pr","World","2018","3000","","","t NdPr oxide/yr","adamas-2019-ev","S","Adamas 2019 forecast: 13,000 t (2025), 28,000 t (2030) ~20% of global demand; NdPr oxide shortfall 7,500 t and Dy oxide deficit 300 t by 2030 without new supply")
r("EV_motor_REE_demand","Nd+Pr+Dy+Tb","World","2024","37","","","kt/yr","idtechex-2024","U","+32% y/y; 43 kt expected 2025; basis (magnet or REE) unclear; IEA gives 8.4 kt REE for EVs in 2024 => IDTechEx figure is probably magnet mass")
r("price_Ce_oxide","Ce","China","2025","14250","13500","15000","yuan/t CeO2 ex-works","argus-ce-2025","S","7-year high after supply cuts; up 68% from 8,000-8,400 yuan/t (5 Feb); CeFeB demand cited")
r("world_REO_production_estimate","all REE","World","2014","125000","","","t REO/yr","binnemans-jones-2015","A","'about 125,000 tonnes'; Binnemans 2018: 130,000-140,000 t, China ~95%")
